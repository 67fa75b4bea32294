// Fedify 1.5 and jsonld.js as an interop peer on 127.0.0.1, driven over HTTP by
// tests/interop/fedify_peer.py. Started with the working directory holding the pinned
// node_modules (see package.json); never reaches beyond loopback.
//
//   node peer.mjs --contexts FILE --port-file FILE
//
// One Fedify actor, `alice` (Person, RSA + Ed25519 keys), served by Fedify itself at
// /users/alice with a personal and a shared inbox. The control API under /_harness/ lets the
// tests use Fedify as a consumer: look objects up, parse and verify documents, canonicalise
// them with jsonld.js in safe mode, follow an actor, read what the inbox accepted.
//
// Alice follows an actor that moves as Mastodon's accounts do: on a `Move` whose object is
// its own actor (signature checked by Fedify, with the key it holds) she checks that the
// target names the mover in `alsoKnownAs` and that the mover, if it still answers, names the
// target in `movedTo`; then she follows the target and undoes her Follow of the mover.
// /_harness/moves tells what she did with each Move.
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { configure } from "@logtape/logtape";
import {
  Accept,
  Activity,
  Create,
  createFederation,
  Delete,
  Endpoints,
  exportJwk,
  Follow,
  generateCryptoKeyPair,
  getAuthenticatedDocumentLoader,
  getDocumentLoader,
  isActor,
  LanguageString,
  lookupObject,
  MemoryKvStore,
  Move,
  Note,
  Object as APObject,
  Person,
  signObject,
  Undo,
  Update,
  verifyObject,
} from "@fedify/fedify";
import jsonld from "jsonld";

function option(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[at + 1];
}

// ------------------------------------------------------------------ logs (warnings kept)

const warnings = [];
await configure({
  sinks: {
    keep(record) {
      const text = record.message.map((part) => typeof part === "string" ? part : JSON.stringify(part)).join("");
      warnings.push(`${record.level} ${record.category.join(".")}: ${text}`.slice(0, 2000));
      console.error(warnings[warnings.length - 1]);
    },
  },
  loggers: [
    { category: "fedify", sinks: ["keep"], lowestLevel: "warning" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
  ],
});

// ------------------------------------------------------------------ loopback only

// Fedify looks handles up over https (WebFinger) and our test nodes speak plain http on
// 127.0.0.1: https URLs on loopback are fetched over http, anything off loopback is refused.
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!LOOPBACK.has(url.hostname)) {
    throw new TypeError(`loopback guard: refusing ${url.href}`);
  }
  if (url.protocol !== "https:") return realFetch(input, init);
  url.protocol = "http:";
  if (!(input instanceof Request)) return realFetch(url, init);
  const body = ["GET", "HEAD"].includes(input.method) ? undefined : await input.arrayBuffer();
  return realFetch(url, { method: input.method, headers: input.headers, body, redirect: input.redirect });
};

// ------------------------------------------------------------------ document loaders

// Contexts the harness hands over (our bundled ones) fill in what Fedify has not preloaded;
// Fedify's own preloaded copies win, as they would online.
const contexts = JSON.parse(readFileSync(option("--contexts"), "utf-8"));
const { default: fedifyContexts } = await import(
  new URL("./node_modules/@fedify/fedify/esm/runtime/contexts.js", import.meta.url)
);
function withContexts(loader) {
  return async (url) => {
    if (url in contexts && !(url in fedifyContexts)) {
      return { contextUrl: null, document: contexts[url], documentUrl: url };
    }
    return await loader(url);
  };
}
const documentLoader = withContexts(getDocumentLoader({ allowPrivateAddress: true }));
const loaders = { documentLoader, contextLoader: documentLoader };

// jsonld.js gets only the contexts, never the network: safe mode must not depend on fetching.
async function contextOnlyLoader(url) {
  if (url in contexts) return { contextUrl: null, document: contexts[url], documentUrl: url };
  throw new Error(`context not bundled: ${url}`);
}

// ------------------------------------------------------------------ the Fedify actor

const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ed25519 = await generateCryptoKeyPair("Ed25519");
const keyPairs = [rsa, ed25519];
const received = []; // activities the inbox accepted (signature verified by Fedify)
const rawBodies = new Map(); // activity id -> the JSON body as it arrived

const federation = createFederation({
  kv: new MemoryKvStore(),
  documentLoaderFactory: () => documentLoader,
  contextLoaderFactory: () => documentLoader,
  authenticatedDocumentLoaderFactory: (identity) =>
    withContexts(getAuthenticatedDocumentLoader(identity, { allowPrivateAddress: true })),
  signatureTimeWindow: { minutes: 5 },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "alice") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify)",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === "alice" ? keyPairs : []));

async function remember(ctx, activity) {
  const id = activity.id?.href ?? null;
  const raw = id ? rawBodies.get(id) ?? null : null;
  const entry = {
    id,
    type: activity.constructor.name,
    actor: activity.actorId?.href ?? null,
    signature: raw?.signature ?? null,
    raw: raw?.json ?? null,
    object: null,
    objectProof: null,
  };
  try {
    const object = await activity.getObject(loaders);
    if (object != null) entry.object = await describe(object);
  } catch (error) {
    entry.object = { error: String(error) };
  }
  // The embedded object's own FEP-8b32 proof, under the activity's context.
  const embedded = raw?.json?.object;
  if (embedded && typeof embedded === "object" && embedded.proof) {
    entry.objectProof = await verifyDocument({ "@context": raw.json["@context"], ...embedded });
  }
  received.push(entry);
}

// ------------------------------------------------------------------ follows and moves

const following = new Map(); // IRI of an actor alice follows -> the id of her Follow
const moves = []; // what alice did with each Move she received

async function sendFollow(ctx, target) {
  const follow = new Follow({
    id: new URL(`/follows/${crypto.randomUUID()}`, ctx.origin),
    actor: ctx.getActorUri("alice"),
    object: target.id,
  });
  await ctx.sendActivity({ identifier: "alice" }, target, follow);
  following.set(target.id.href, follow.id.href);
  return follow;
}

async function followMove(ctx, move, entry) {
  const from = entry.from;
  if (!from || move.objectId?.href !== from) return "not an account move: its object is not its actor";
  if (!following.has(from)) return "alice does not follow the actor that moved";
  const target = await move.getTarget(loaders);
  if (!isActor(target)) return "the target is not an actor";
  if (!target.aliasIds.some((alias) => alias.href === from)) {
    return "the target does not name the mover in alsoKnownAs";
  }
  // The mover fetched again must name the target in movedTo; a mover whose server is gone
  // cannot, and then (as Mastodon, which never asks) the target's alsoKnownAs is enough.
  let mover = null;
  try {
    mover = await lookupObject(from, { ...loaders, allowPrivateAddress: true });
  } catch {
    mover = null;
  }
  entry.moverAnswered = mover !== null;
  if (mover !== null && (!isActor(mover) || mover.successorId?.href !== target.id.href)) {
    return "the mover does not name the target in movedTo";
  }
  const oldFollow = following.get(from);
  entry.followed = (await sendFollow(ctx, target)).id.href;
  following.delete(from);
  if (mover !== null) {
    const undo = new Undo({
      id: new URL(`/undos/${crypto.randomUUID()}`, ctx.origin),
      actor: ctx.getActorUri("alice"),
      object: new Follow({ id: new URL(oldFollow), actor: ctx.getActorUri("alice"), object: mover.id }),
    });
    await ctx.sendActivity({ identifier: "alice" }, mover, undo);
    entry.unfollowed = from;
  }
  return null;
}

async function onMove(ctx, move) {
  await remember(ctx, move);
  const entry = { id: move.id?.href ?? null, from: move.actorId?.href ?? null, to: move.targetId?.href ?? null };
  moves.push(entry);
  try {
    entry.refused = await followMove(ctx, move, entry);
  } catch (error) {
    entry.refused = String(error && error.stack || error);
  }
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Move, onMove)
  .on(Accept, remember)
  .on(Create, remember)
  .on(Update, remember)
  .on(Delete, remember)
  .on(Activity, remember);

// ------------------------------------------------------------------ consumer operations

function plain(value) {
  if (value == null) return null;
  if (value instanceof URL) return value.href;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof LanguageString) {
    return { value: value.toString(), language: value.language.compact() };
  }
  return typeof value === "object" ? String(value) : value;
}

async function describe(object) {
  const out = {
    type: object.constructor.name,
    id: object.id?.href ?? null,
    name: plain(object.name),
    summary: plain(object.summary),
    content: plain(object.content),
    contents: plain(object.contents ?? []),
    url: plain(object.url?.href ?? object.url?.id ?? object.url),
    published: object.published?.toString() ?? null,
    updated: object.updated?.toString() ?? null,
    sensitive: object.sensitive ?? null,
    json: await object.toJsonLd({ format: "compact", contextLoader: documentLoader }),
  };
  return out;
}

async function verifyDocument(document) {
  const proofs = Array.isArray(document.proof) ? document.proof.length : document.proof ? 1 : 0;
  let parsedProofs = 0;
  try {
    const object = await APObject.fromJsonLd(document, loaders);
    for await (const _ of object.getProofs(loaders)) parsedProofs++;
    const verified = await verifyObject(APObject, document, loaders);
    return { proofs, parsedProofs, verified: verified !== null && parsedProofs > 0 };
  } catch (error) {
    return { proofs, parsedProofs, verified: false, error: String(error) };
  }
}

async function canonize(document) {
  try {
    const nquads = await jsonld.canonize(document, {
      algorithm: "URDNA2015",
      format: "application/n-quads",
      safe: true,
      documentLoader: contextOnlyLoader,
    });
    return { nquads };
  } catch (error) {
    return { error: `${error.name}: ${error.message} ${JSON.stringify(error.details ?? {}).slice(0, 1500)}` };
  }
}

const handlers = {
  async "GET /_harness/info"(ctx) {
    return { actor: ctx.getActorUri("alice").href, inbox: ctx.getInboxUri("alice").href };
  },
  async "GET /_harness/inbox"() {
    return { items: received };
  },
  async "GET /_harness/moves"() {
    return { moves, following: Object.fromEntries(following) };
  },
  async "GET /_harness/warnings"() {
    return { warnings: warnings.splice(0) };
  },
  async "POST /_harness/lookup"(_ctx, body) {
    warnings.splice(0);
    const object = await lookupObject(body.identifier, { ...loaders, allowPrivateAddress: true });
    return { found: object !== null, object: object && (await describe(object)), warnings: warnings.splice(0) };
  },
  async "POST /_harness/parse"(_ctx, body) {
    warnings.splice(0);
    try {
      const object = await APObject.fromJsonLd(body.document, loaders);
      return { object: await describe(object), warnings: warnings.splice(0) };
    } catch (error) {
      return { error: String(error), warnings: warnings.splice(0) };
    }
  },
  async "POST /_harness/verify"(_ctx, body) {
    return await verifyDocument(body.document);
  },
  async "POST /_harness/canonize"(_ctx, body) {
    return await canonize(body.document);
  },
  async "POST /_harness/follow"(ctx, body) {
    const target = await lookupObject(body.identifier, { ...loaders, allowPrivateAddress: true });
    if (target === null) return { error: `cannot look up ${body.identifier}` };
    const follow = await sendFollow(ctx, target);
    return { id: follow.id.href, target: target.id.href };
  },
  async "POST /_harness/sign"(ctx, body) {
    const note = new Note({
      id: new URL(`/notes/${crypto.randomUUID()}`, ctx.origin),
      attribution: ctx.getActorUri("alice"),
      content: body.content,
    });
    const keyId = new URL(`${ctx.getActorUri("alice").href}#ed25519-key`);
    const keys = await ctx.getActorKeyPairs("alice");
    const ed = keys.find((pair) => pair.privateKey.algorithm.name === "Ed25519");
    const signed = await signObject(note, ed.privateKey, ed.keyId ?? keyId, loaders);
    return {
      document: await signed.toJsonLd({ format: "compact", contextLoader: documentLoader }),
      publicKeyJwk: await exportJwk(ed.publicKey),
      keyId: (ed.keyId ?? keyId).href,
    };
  },
};

// ------------------------------------------------------------------ HTTP server

async function toRequest(req, origin, bodyText) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const init = { method: req.method, headers };
  if (bodyText !== null) init.body = bodyText;
  return new Request(new URL(req.url, origin), init);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf-8");
}

let origin = null;
const server = http.createServer(async (req, res) => {
  try {
    const bodyText = ["GET", "HEAD"].includes(req.method) ? null : await readBody(req);
    const path = new URL(req.url, origin).pathname;
    const control = handlers[`${req.method} ${path}`];
    if (control) {
      const ctx = federation.createContext(new URL(origin), undefined);
      const result = await control(ctx, bodyText ? JSON.parse(bodyText) : {});
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(result));
      return;
    }
    if (bodyText) {
      try {
        const json = JSON.parse(bodyText);
        const signature = req.headers["signature-input"] ? "rfc9421" : req.headers.signature ? "draft-cavage" : null;
        if (json && typeof json.id === "string") rawBodies.set(json.id, { json, signature });
      } catch {
        // not JSON: Fedify answers it
      }
    }
    const response = await federation.fetch(await toRequest(req, origin, bodyText), { contextData: undefined });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    console.error(error);
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(error && error.stack || error) }));
  }
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  origin = `http://127.0.0.1:${port}`;
  writeFileSync(option("--port-file"), String(port));
  console.error(`fedify peer on ${origin}`);
});
