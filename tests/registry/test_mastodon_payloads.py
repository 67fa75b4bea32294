"""What Mastodon's source enforces on incoming payloads, checked against what our node really
sends and serves (Mastodon's own rules, each named with the Mastodon source path that applies it).

One story per test, run in-process: a remote actor (a real HTTP server on 127.0.0.1 that
records every request) follows the node and is accepted; a group publishes an asset, edits it
twice and deletes it; the node delivers Accept, Create, Update, Update, Delete to the remote.
Each test checks one family of rules on those deliveries, their HTTP signatures, or on the
documents the node serves to a fetching Mastodon.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.people.accounts import create_admin_token
from registry.runtime import Runtime
from tests.registry.test_assets_api import GARDEN
from tests.remote_actor import RemoteActor, follow_node, serving

BASE = "http://registry.test"
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# What Mastodon sends when it fetches a document (JsonLdHelper#build_request).
MASTODON_ACCEPT = 'application/activity+json, application/ld+json; profile="' + AS + '"'
# FetchRemoteActorService::SUPPORTED_TYPES
ACTOR_TYPES = {"Application", "Group", "Organization", "Person", "Service"}
# ActivityPub::Activity::CONVERTED_TYPES: shown as name + summary + link
CONVERTED_TYPES = {"Image", "Audio", "Video", "Article", "Page", "Event"}
# Account: remote usernames must match this (app/models/account.rb)
USERNAME_RE = re.compile(r"\A[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?\Z", re.IGNORECASE)
# Tag::HASHTAG_NAME_RE (app/models/tag.rb), with [[:word:]]/[[:alpha:]] as Python classes
_SEP = "\u00b7\u30fb\u200c"  # separators besides "_" (which \w already has)
_ALPHA = rf"(?:[^\W\d_]|[_{_SEP}])"  # [[:alpha:]] or a separator
_FIRST = rf"\w[\w{_SEP}]*{_ALPHA}[\w{_SEP}]*\w"
_LAST = r"\w*[^\W\d_]\w*"
HASHTAG_NAME_RE = re.compile(rf"\A(?:{_FIRST}|{_LAST})\Z")
REALTIME_WINDOW = timedelta(hours=6)  # Status::REAL_TIME_WINDOW

ASSET = {
    **GARDEN,
    # markup and an ampersand: must travel as text, never as HTML the post would render
    "summary": "Beds <b>for everyone</b> & a tool shed; open on Saturdays.",
    # The last two are not hashtags as written: `-` is dropped, a name needs a letter.
    "tags": ["garden", "Barcelona", "Poble_Nou", "hortènsia", "open-data", "2024"],
}


@dataclass
class Recorder(RemoteActor):
    """The remote actor, also keeping each inbox POST's path and headers."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def actor(request: Request) -> JSONResponse:
            return JSONResponse(self.document(), media_type="application/activity+json")

        async def inbox(request: Request) -> JSONResponse:
            body = await request.body()
            self.requests.append(
                {
                    "path": request.url.path,
                    "query": request.url.query,
                    "headers": dict(request.headers),
                    "body": body,
                }
            )
            self.received.append(httpx.Response(200, content=body).json())
            return JSONResponse({}, status_code=202)

        return Starlette(
            routes=[
                Route(f"/users/{self.name}", actor),
                Route(f"/users/{self.name}/inbox", inbox, methods=["POST"]),
                Route("/inbox", inbox, methods=["POST"]),
            ]
        )


@dataclass
class Story:
    http: httpx.AsyncClient
    remote: Recorder
    actor: dict[str, Any]
    follow: dict[str, Any]
    asset: dict[str, Any]
    started: datetime
    group: dict[str, str]
    deliver: Callable[[], Awaitable[Any]]

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.remote.received if a["type"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        [found] = self.sent(kind)
        return found

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [a for a in self.remote.received if a["type"] in ("Create", "Update", "Delete")]


@pytest.fixture
async def story(make_app: Callable[..., object]) -> AsyncIterator[Story]:
    app = make_app(federation={"allow_private_addresses": True, "allow_http": True})
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    fed = runtime.federation
    assert fed is not None
    started = datetime.now(UTC).replace(microsecond=0)
    async with (
        serving(Recorder()) as remote,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url=BASE,
        ) as http,
    ):
        follow = await follow_node(http, remote, fed, f"{BASE}/actor")

        admin = (await create_admin_token(runtime.engine))[1]
        token = (
            await http.post(
                "/api/groups", json={"name": "G"}, headers={"Authorization": f"Bearer {admin}"}
            )
        ).json()["token"]
        group = {"Authorization": f"Bearer {token}"}
        created = await http.post("/api/assets", json=ASSET, headers=group)
        assert created.status_code == 201, created.text
        asset = created.json()
        await fed.delivery.run_once()
        for change in ({"name": "Jardí del Poblenou"}, {"summary": "Now with a pond."}):
            edited = await http.patch(f"/api/assets/{asset['id']}", json=change, headers=group)
            assert edited.status_code == 200, edited.text
            await fed.delivery.run_once()
        assert (await http.delete(f"/api/assets/{asset['id']}", headers=group)).is_success
        await fed.delivery.run_once()

        actor = await http.get("/actor", headers={"Accept": MASTODON_ACCEPT})
        assert actor.status_code == 200, actor.text
        yield Story(
            http, remote, actor.json(), follow, asset, started, group, fed.delivery.run_once
        )
    await runtime.stop_federation()


def host(uri: Any) -> str:
    assert isinstance(uri, str) and uri.startswith(("http://", "https://")), uri
    return urlsplit(uri).netloc.lower()


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def timestamp(value: Any) -> datetime:
    """ISO 8601 with an explicit UTC offset (Ruby's to_datetime reads it; no offset would be
    taken as the receiver's local time)."""
    assert isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value
    ), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_plain_text(value: Any, limit: int | None = None) -> str:
    """AS2 text that is HTML-escaped plain text: no element in it once parsed as HTML."""
    assert isinstance(value, str) and value.strip(), value
    assert "<" not in value and ">" not in value, f"markup in {value!r}"
    text = html.unescape(value)
    if limit is not None:
        assert len(text) <= limit, f"{len(text)} characters: {value!r}"
    return text


# -- the actor document (FetchRemoteActorService, ProcessAccountService, JsonLdHelper) ---------


async def test_actor_is_served_as_activity_json_to_mastodons_accept(story: Story) -> None:
    # JsonLdHelper#fetch_resource_without_id_validation refuses any other media type
    for accept in (MASTODON_ACCEPT, f'application/ld+json; profile="{AS}"'):
        response = await story.http.get("/actor", headers={"Accept": accept})
        media = response.headers["content-type"].split(";")[0].strip()
        assert response.status_code == 200
        assert media in ("application/activity+json", "application/ld+json"), response.headers
        if media == "application/ld+json":
            assert AS in response.headers["content-type"], response.headers


async def test_actor_document_has_what_mastodon_requires(story: Story) -> None:
    actor = story.actor
    # supported_context?: the literal AS2 context URL, alone or in the list
    assert AS in as_list(actor["@context"])
    # fetch_resource compares the id with the URL fetched; the type must be an actor type
    assert actor["id"] == f"{BASE}/actor"
    assert actor["type"] in ACTOR_TYPES
    # "has no 'preferredUsername', which is a requirement for Mastodon compatibility"
    assert isinstance(actor["preferredUsername"], str)
    assert USERNAME_RE.match(actor["preferredUsername"]), actor["preferredUsername"]
    # inbox (required to deliver), collections and the shared inbox on the actor's host
    for key in ("inbox", "outbox", "followers", "following"):
        assert host(actor[key]) == host(actor["id"]), key
    assert host(actor["endpoints"]["sharedInbox"]) == host(actor["id"])
    assert isinstance(actor["url"], str) and host(actor["url"]) == host(actor["id"])
    assert isinstance(actor["name"], str) and isinstance(actor["summary"], str)
    for flag in ("manuallyApprovesFollowers", "discoverable", "indexable"):
        assert isinstance(actor[flag], bool), flag
    if "icon" in actor:
        assert actor["icon"]["type"] == "Image" and host(actor["icon"]["url"])
    if "published" in actor:
        assert timestamp(actor["published"]) <= datetime.now(UTC) + timedelta(minutes=5)


async def test_actor_summary_is_escaped_plain_text(make_app: Callable[..., object]) -> None:
    # ProcessAccountService keeps `summary` as the profile note, which is HTML: configured
    # text with `&` or `<` must arrive as text, not be sanitised away as markup
    configured = "Seeds & tools <for everyone>"
    app = make_app(node={"summary": configured}, federation={"allow_http": True})
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url=BASE,
        ) as http:
            actor = (await http.get("/actor", headers={"Accept": MASTODON_ACCEPT})).json()
    finally:
        await runtime.stop_federation()
    assert assert_plain_text(actor["summary"]) == configured
    assert actor["name"] == "Commons Registry"  # `name` is plain text in AS2: as configured


async def test_actor_key_is_rsa_2048_spki_pem_owned_by_the_actor(story: Story) -> None:
    actor, key = story.actor, story.actor["publicKey"]
    # FetchRemoteKeyService: the key's owner is the actor and the actor names the key back
    assert key["owner"] == actor["id"]
    assert key["id"].startswith(actor["id"] + "#")
    pem = key["publicKeyPem"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----"), pem[:40]  # SubjectPublicKeyInfo
    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048
    # Mastodon fetches the keyId URL itself (the fragment stays on our side) and must find
    # an actor document naming the same key
    fetched = await story.http.get(key["id"], headers={"Accept": MASTODON_ACCEPT})
    assert fetched.status_code == 200
    assert fetched.json()["id"] == actor["id"]
    assert fetched.json()["publicKey"]["id"] == key["id"]


async def test_webfinger_loops_back_to_the_actor(story: Story) -> None:
    # FetchRemoteActorService#check_webfinger!: acct:preferredUsername@host must resolve to
    # exactly the actor id, through a self link of the ActivityPub media type
    actor = story.actor
    acct = f"acct:{actor['preferredUsername']}@{host(actor['id'])}"
    response = await story.http.get("/.well-known/webfinger", params={"resource": acct})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    jrd = response.json()
    assert jrd["subject"] == acct
    selves = [link for link in jrd["links"] if link["rel"] == "self"]
    assert selves and all(link["href"] == actor["id"] for link in selves), selves
    assert any(link.get("type") == "application/activity+json" for link in selves), selves


# -- what the deliveries carry on the wire (SignatureVerification, Request) -------------------


def _signature_fields(header: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


async def test_every_delivery_is_signed_the_way_mastodon_verifies(story: Story) -> None:
    requests = story.remote.requests
    assert [httpx.Response(200, content=r["body"]).json()["type"] for r in requests] == [
        "Accept",
        "Create",
        "Update",
        "Update",
        "Delete",
    ]
    public = serialization.load_pem_public_key(story.actor["publicKey"]["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    for request in requests:
        headers, body = request["headers"], request["body"]
        media = headers["content-type"].split(";")[0].strip()
        assert media in ("application/activity+json", "application/ld+json"), headers
        sig = _signature_fields(headers["signature"])
        assert sig["keyId"] == story.actor["publicKey"]["id"]
        assert sig.get("algorithm", "hs2019") in ("rsa-sha256", "hs2019")
        signed = sig["headers"].split()
        # verify_signature_strength!: date, (request-target) and, on POST, digest signed
        assert {"(request-target)", "host", "date", "digest"} <= set(signed), signed
        # Digest must carry SHA-256 of the exact body
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert headers["digest"] in (f"SHA-256={digest}", f"sha-256={digest}"), headers
        sent = email.utils.parsedate_to_datetime(headers["date"])
        assert abs(datetime.now(UTC) - sent) < timedelta(minutes=5), headers["date"]
        target = request["path"] + (f"?{request['query']}" if request["query"] else "")
        lines = [
            f"(request-target): post {target}"
            if name == "(request-target)"
            else f"{name}: {headers[name]}"
            for name in signed
        ]
        public.verify(
            base64.b64decode(sig["signature"]),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )  # raises InvalidSignature


# -- Accept (ActivityPub::Activity::Accept) --------------------------------------------------


async def test_accept_names_the_follow_mastodon_sent(story: Story) -> None:
    accept, follow = story.one("Accept"), story.follow
    assert AS in as_list(accept["@context"])
    assert accept["actor"] == story.actor["id"]
    assert host(accept["id"]) == host(story.actor["id"])
    # follow_request_from_object looks the Follow up by the object's id; the embedded
    # fallback reads the follower from object.actor
    obj = accept["object"]
    assert isinstance(obj, dict), accept
    assert obj["id"] == follow["id"] and obj["type"] == "Follow"
    assert obj["actor"] == story.remote.actor and obj["object"] == story.actor["id"]
    assert story.remote.actor in as_list(accept["to"])


# -- Create, Update, Delete (ActivityPub::Activity::Create/Update/Delete, StatusParser) ------


async def test_changes_are_addressed_public_and_to_our_followers(story: Story) -> None:
    assert len(story.changes) == 4
    for activity in story.changes:
        assert AS in as_list(activity["@context"])
        # invalid_origin? / non_matching_uri_hosts?: ids on the sender's host
        assert activity["actor"] == story.actor["id"]
        assert host(activity["id"]) == host(story.actor["id"])
        # StatusParser#visibility: Public in `to` makes the post public; the followers
        # collection lets Mastodon tell followers-only from direct
        assert PUBLIC in as_list(activity["to"]), activity["to"]
        assert story.actor["followers"] in as_list(activity.get("cc", [])), activity
        obj = activity["object"]
        if activity["type"] != "Delete":
            # StatusParser reads the object's to/cc before the activity's
            assert PUBLIC in as_list(obj["to"])
            assert story.actor["followers"] in as_list(obj.get("cc", []))
        timestamp(activity["published"])
    assert len({activity["id"] for activity in story.remote.received}) == 5


async def test_create_embeds_a_page_mastodon_renders(story: Story) -> None:
    create = story.one("Create")
    page = create["object"]
    # unsupported_object_type?: a bare IRI or an unknown type is dropped
    assert isinstance(page, dict), create
    types = as_list(page["type"])
    assert CONVERTED_TYPES & set(types), types  # raw strings: "as:Page" would not match
    assert "Note" not in types  # both: converted wins anyway, content dropped
    assert page["id"] == story.asset["iri"]
    assert host(page["id"]) == host(story.actor["id"])  # Create#invalid_origin?
    # object_url: a text/html href on the same host, or Mastodon links the id instead
    url = page["url"]
    href = url if isinstance(url, str) else url["href"]
    assert host(href) == host(story.actor["id"])
    if not isinstance(url, str):
        assert url.get("mediaType", "text/html") == "text/html"
    assert page["attributedTo"] == story.actor["id"]
    # Create#converted_text: linkify([title, spoiler_text (summary), url]); spoiler_text is
    # also what every other server shows as a content warning, so there is none: the post is
    # the name and the link (and the page's preview card)
    assert assert_plain_text(page["name"]) == ASSET["name"]
    assert "summary" not in page and "summaryMap" not in page
    assert page["abstract"] == ASSET["summary"]  # the record's summary, as plain text
    # StatusParser#language: the first key of contentMap
    assert list(page["contentMap"]) == ["en"]
    # servers that show `content` (StatusParser#text, for a Note) see the name as a link
    assert page["contentMap"]["en"] == page["content"]
    assert f'<a href="{href}">' in page["content"]
    assert html.escape(ASSET["summary"], quote=False) in page["content"]
    assert page.get("mediaType", "text/html") == "text/html"


async def test_summary_is_at_most_500_characters_of_text(story: Story) -> None:
    # Page/Article: the summary is the body of the post; keep it short and plain
    longest = "&" + "é" * 499
    response = await story.http.post(
        "/api/assets", json={**GARDEN, "summary": longest + "x"}, headers=story.group
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "summary" in response.text
    response = await story.http.post(
        "/api/assets", json={**GARDEN, "summary": longest}, headers=story.group
    )
    assert response.status_code == 201, response.text
    await story.deliver()
    page = story.sent("Create")[-1]["object"]
    assert page["abstract"] == longest


async def test_hashtags_have_a_hash_name_and_a_link(story: Story) -> None:
    page = story.one("Create")["object"]
    tags = [t for t in as_list(page.get("tag", [])) if "Hashtag" in as_list(t.get("type"))]
    # process_hashtag: the name, without its leading '#', must be a valid Tag name
    assert sorted(t["name"] for t in tags) == sorted(
        ["#garden", "#Barcelona", "#Poble_Nou", "#hortènsia", "#opendata"]
    )
    assert page["keywords"] == ASSET["tags"]  # the tags as written stay keywords
    for tag in tags:
        assert tag["name"].startswith("#")
        assert HASHTAG_NAME_RE.match(tag["name"][1:]), tag["name"]
        assert host(tag["href"]) == host(story.actor["id"])
        landing = await story.http.get(tag["href"])
        assert landing.status_code in (200, 301, 302, 303, 307, 308), tag["href"]


async def test_timestamps_keep_the_post_in_timelines_and_unedited(story: Story) -> None:
    create = story.one("Create")
    page = create["object"]
    published = timestamp(page["published"])
    # Status::REAL_TIME_WINDOW: only recent statuses reach home timelines
    assert story.started - timedelta(seconds=1) <= published <= datetime.now(UTC)
    assert datetime.now(UTC) - published < REALTIME_WINDOW
    # Create: edited_at = updated unless it equals published, i.e. the post shows "edited"
    if "updated" in page:
        assert timestamp(page["updated"]) == published, page
    # ProcessStatusUpdateService skips an Update older than the last edit it saw
    previous = published
    for update in story.sent("Update"):
        obj = update["object"]
        edited = timestamp(obj["updated"])
        assert edited >= previous and timestamp(obj["published"]) == published, obj
        previous = edited


async def test_update_carries_the_whole_changed_object(story: Story) -> None:
    create = story.one("Create")
    first, second = story.sent("Update")
    for update in (first, second):
        obj = update["object"]
        assert isinstance(obj, dict), update
        assert obj["id"] == create["object"]["id"]
        assert as_list(obj["type"]) == as_list(create["object"]["type"])
        assert host(obj["id"]) == host(story.actor["id"])  # update_status: invalid_origin?
        assert obj["attributedTo"] == story.actor["id"]
    assert first["object"]["name"] == "Jardí del Poblenou"
    assert second["object"]["name"] == "Jardí del Poblenou"  # the whole object, not a patch
    assert second["object"]["abstract"] == "Now with a pond."
    assert first["id"] != second["id"]


async def test_delete_carries_a_tombstone_of_our_object(story: Story) -> None:
    delete = story.one("Delete")
    tombstone = delete["object"]
    assert isinstance(tombstone, dict), delete
    assert tombstone["type"] == "Tombstone"
    # delete_note: object_uri (value_or_id) names the status; invalid_origin? on its host
    assert tombstone["id"] == story.asset["iri"]
    assert host(tombstone["id"]) == host(story.actor["id"])
    assert "as:Page" in as_list(tombstone.get("formerType", "as:Page"))
    timestamp(tombstone["deleted"])
    # A refetch (Mastodon, PeerTube's refresher) finds it gone, as a Tombstone
    gone = await story.http.get(story.asset["iri"], headers={"Accept": MASTODON_ACCEPT})
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone" and gone.json()["id"] == story.asset["iri"]
