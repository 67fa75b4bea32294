"""The node actor: its IRIs, keys and the documents that describe it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from federation import documents
from federation.httpsig import CavageAuth
from federation.keys import NodeKeys
from registry import __version__
from registry.config import Settings
from vocab.htmltext import escape_text

SOFTWARE = "commons-registry"


DEFAULT_ICON = "/static/avatar.png"  # shipped with the node; federation.icon_url replaces it


@dataclass(frozen=True)
class NodeIdentity:
    settings: Settings
    keys: NodeKeys

    @property
    def base(self) -> str:
        return self.settings.base_url

    @property
    def actor_iri(self) -> str:
        return f"{self.base}/actor"

    @property
    def key_id(self) -> str:
        return f"{self.actor_iri}#main-key"

    @property
    def proof_key_id(self) -> str:
        return f"{self.actor_iri}#ed25519-key"

    @property
    def inbox(self) -> str:
        return f"{self.actor_iri}/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.actor_iri}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.actor_iri}/followers"

    @property
    def following(self) -> str:
        return f"{self.actor_iri}/following"

    @property
    def handle(self) -> str:
        return f"{self.settings.node.handle}@{self.settings.domain}"

    def new_activity_id(self) -> str:
        return f"{self.base}/activities/{uuid.uuid4().hex}"

    def signer(self) -> CavageAuth:
        """Signs every request the node makes (Mastodon verifies only RSA cavage)."""
        return CavageAuth(self.key_id, self.keys.rsa_private_key)

    def actor_document(self) -> dict[str, Any]:
        node, fed = self.settings.node, self.settings.federation
        return documents.actor_document(
            actor_iri=self.actor_iri,
            preferred_username=node.handle,
            name=node.name,
            # AS2 `summary` is HTML (Mastodon shows it as the profile note): the configured
            # plain text goes out escaped, so `&` or `<` in it is text, not markup.
            summary=escape_text(node.summary),
            url=f"{self.base}/",
            icon=fed.icon_url or f"{self.base}{DEFAULT_ICON}",
            rsa_public_pem=self.keys.rsa_public_pem,
            ed25519_multikey=self.keys.ed25519_multikey,
            inbox=self.inbox,
            outbox=self.outbox,
            followers=self.followers,
            following=self.following,
            shared_inbox=self.shared_inbox,
            discoverable=fed.discoverable,
            indexable=fed.indexable,
            manually_approves_followers=fed.manually_approves_followers,
        )

    def webfinger(self, subject: str) -> dict[str, Any]:
        return documents.webfinger_jrd(
            subject,
            [self.actor_iri, f"{self.base}/"],
            self.actor_iri,
            f"{self.base}/",
            server_actor=True,
        )

    def nodeinfo(self, usage: dict[str, Any]) -> dict[str, Any]:
        node = self.settings.node
        return documents.nodeinfo_document(
            SOFTWARE,
            __version__,
            homepage=f"{self.base}/",
            usage=usage,
            open_registrations=False,
            metadata={
                "nodeName": node.name,
                "nodeDescription": node.summary,
                "operator": node.operator,
                "contact": node.contact_email,
                "actor": self.actor_iri,
                "handle": f"@{self.handle}",
                # How partners find what to pull (see registry.changes).
                "commonsRegistry": {
                    "changes": f"{self.base}/changes",
                    "catalog": f"{self.base}/catalog",
                },
            },
        )
