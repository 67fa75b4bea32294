"""Who may see an asset: the one rule every output applies.

An asset's `visibility` is one of:
- `public`: everyone, everywhere (search, map, exports, federation);
- `unlisted`: at its IRI and federated to followers, but in no list (search, map, DCAT,
  GeoJSON, CSV, OGC features);
- `partners`: only partner nodes receive it and may fetch it (signed requests from their
  actors); on a partner that mirrors it, only that node's own people see the copy;
- `group`: only the owning group's signed-in members (and the node's admins); never federated.

Every output asks this module, as SQL conditions over `assets`, with the `Audience` of the
request: `readable` (may it be fetched by its IRI or id) and `listed` (may it appear in a list
or search of someone who asked). Public exports always use `PUBLIC_AUDIENCE`. Federation asks
registry.catalog.addressing (`delivered_to_followers` / `delivered_to_partners`), where a
copy's visibility is also read back from how its document is addressed, so a mirror keeps
the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, or_, true

# The values themselves live with the federation half of the rule; they are this module's too.
from registry.catalog.addressing import PARTNERS, PUBLIC, UNLISTED, VISIBILITIES
from registry.core.errors import Unprocessable
from registry.core.schema import LOCAL, assets


@dataclass(frozen=True)
class Audience:
    """Who is asking: the node's admins, members (or tokens) of some groups, a partner node."""

    admin: bool = False
    groups: frozenset[int] = field(default_factory=frozenset)
    partner: bool = False  # a request signed by a partner node's actor

    @property
    def insider(self) -> bool:
        """One of this node's own people (signed in, or holding a token)."""
        return self.admin or bool(self.groups)


PUBLIC_AUDIENCE = Audience()  # anyone at all; what every public export is computed for
PARTNER_AUDIENCE = Audience(partner=True)


def audience_of(principal: Any, *, partner: bool = False) -> Audience:
    """The audience of a request acting for `principal` (an accounts.Principal, or None)."""
    if principal is None:
        return PARTNER_AUDIENCE if partner else PUBLIC_AUDIENCE
    groups = frozenset([principal.group_id]) if principal.group_id is not None else frozenset()
    return Audience(admin=principal.is_admin, groups=groups, partner=partner)


def checked(value: Any, field_name: str = "visibility") -> str:
    """A visibility given by a client, or a 422 naming the field and the allowed values."""
    if not isinstance(value, str) or value not in VISIBILITIES:
        raise Unprocessable(
            f"{field_name} must be one of {', '.join(VISIBILITIES)}",
            errors=[{"field": field_name, "message": f"one of {', '.join(VISIBILITIES)}"}],
        )
    return value


# -- the rule, as SQL ------------------------------------------------------------------------


def readable(audience: Audience) -> ColumnElement[bool]:
    """May `audience` fetch the asset itself (page, document, API, a feed entry)?"""
    if audience.admin:
        return true()
    terms: list[ColumnElement[bool]] = [assets.c.visibility.in_((PUBLIC, UNLISTED))]
    if audience.groups:
        terms.append(assets.c.group_id.in_(sorted(audience.groups)))
    if audience.partner:  # our own partners-only assets, never a copy of another node's
        terms.append(and_(assets.c.visibility == PARTNERS, assets.c.origin == LOCAL))
    if audience.insider:  # a partner's partners-only asset we hold: for our own people
        terms.append(and_(assets.c.visibility == PARTNERS, assets.c.origin != LOCAL))
    return or_(*terms)


def listed(audience: Audience) -> ColumnElement[bool]:
    """May the asset appear in a list, search or map `audience` asked for? Public ones for
    everybody; this node's own people also find what they may read (except unlisted)."""
    if not audience.insider:
        return assets.c.visibility == PUBLIC
    return and_(readable(audience), assets.c.visibility != UNLISTED)


def exported() -> ColumnElement[bool]:
    """Public exports (DCAT, GeoJSON, CSV, OGC features, the map for anyone): public only."""
    return listed(PUBLIC_AUDIENCE)


def in_feed(audience: Audience) -> ColumnElement[bool]:
    """May a partner's pull (changes feed, catalog) carry the asset? Otherwise the feed shows
    it as deleted, so a copy made while it was visible goes away."""
    return readable(Audience(partner=audience.partner))


def readable_flag(audience: Audience) -> Any:
    """`readable` as a column (true/false) for single-row reads that must tell 404 apart."""
    return as_flag(readable(audience))


def as_flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, true()), else_=false())
