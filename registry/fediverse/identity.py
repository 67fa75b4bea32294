"""The node actor: its IRIs, keys and the documents that describe it."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation import documents
from federation.httpsig import CavageAuth
from federation.keys import NodeKeys
from registry import __version__
from registry.config import Settings
from registry.core import iris
from vocab.htmltext import escape_text

SOFTWARE = "commons-registry"


DEFAULT_ICON = "avatar.png"  # shipped with the node; federation.icon_url replaces it


@dataclass(frozen=True)
class NodeIdentity:
    settings: Settings
    keys: NodeKeys
    created: datetime | None = None  # when `init` made the node: the actor's `published`

    @property
    def base(self) -> str:
        return self.settings.base_url

    @property
    def actor_iri(self) -> str:
        return iris.actor(self.base)

    @property
    def key_id(self) -> str:
        return iris.key_id(self.base)

    @property
    def proof_key_id(self) -> str:
        return iris.proof_key_id(self.base)

    @property
    def inbox(self) -> str:
        return iris.actor_inbox(self.base)

    @property
    def shared_inbox(self) -> str:
        return iris.shared_inbox(self.base)

    @property
    def outbox(self) -> str:
        return iris.outbox(self.base)

    @property
    def followers(self) -> str:
        return iris.followers(self.base)

    @property
    def following(self) -> str:
        return iris.following(self.base)

    @property
    def featured(self) -> str:
        return iris.featured(self.base)

    @property
    def featured_tags(self) -> str:
        return iris.featured_tags(self.base)

    @property
    def icon(self) -> dict[str, Any]:
        configured = self.settings.federation.icon_url
        if configured:
            return {"type": "Image", "url": configured}
        return {
            "type": "Image",
            "mediaType": "image/png",
            "url": iris.static(self.base, DEFAULT_ICON),
        }

    def profile_fields(self) -> list[tuple[str, str]]:
        """Operator, contact and website as (name, HTML value), for the profile's fields."""
        node = self.settings.node
        fields = []
        if node.operator:
            fields.append(("Operator", escape_text(node.operator)))
        if node.contact_email:
            mail = html.escape(node.contact_email, quote=True)
            fields.append(("Contact", f'<a href="mailto:{mail}">{mail}</a>'))
        if node.website:
            href = html.escape(node.website, quote=True)
            shown = html.escape(node.website.split("://", 1)[-1].rstrip("/"), quote=False)
            fields.append(
                ("Website", f'<a href="{href}" rel="me nofollow noopener noreferrer">{shown}</a>')
            )
        return fields

    @property
    def handle(self) -> str:
        return f"{self.settings.node.handle}@{self.settings.domain}"

    def new_activity_id(self) -> str:
        return iris.activity(self.base, uuid.uuid4().hex)

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
            url=iris.home(self.base),
            icon=self.icon,
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
            published=self.created,
            featured=self.featured,
            featured_tags=self.featured_tags,
            fields=self.profile_fields(),
            also_known_as=fed.also_known_as,
        )

    def webfinger(self) -> dict[str, Any]:
        """The same answer whichever resource named the actor: the acct: subject, and the
        actor's IRIs as aliases (servers key accounts by the subject)."""
        return documents.webfinger_jrd(
            f"acct:{self.handle}",
            [self.actor_iri, iris.home(self.base)],
            self.actor_iri,
            iris.home(self.base),
            server_actor=True,
        )

    def nodeinfo(self, usage: dict[str, Any]) -> dict[str, Any]:
        node = self.settings.node
        return documents.nodeinfo_document(
            SOFTWARE,
            __version__,
            homepage=iris.home(self.base),
            usage=usage,
            open_registrations=False,
            metadata={
                "nodeName": node.name,
                "nodeDescription": node.summary,
                "operator": node.operator,
                "contact": node.contact_email,
                "actor": self.actor_iri,
                "handle": f"@{self.handle}",
                # How partners find what to pull (see registry.catalog.changes).
                "commonsRegistry": {
                    "changes": iris.changes(self.base),
                    "catalog": iris.catalog(self.base),
                },
            },
        )
