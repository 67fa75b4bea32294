"""A group's own rules: the visibility and the licence its new assets get when their author
says nothing. The licence is written into each asset's document, so it travels with every
copy and every export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import visibility
from registry.core import db
from registry.core.errors import NotFound, Unprocessable
from registry.core.schema import groups
from vocab.errors import ErrorList
from vocab.linked import License

UNSET = object()


def checked_license(value: Any) -> str | None:
    """An SPDX identifier in its canonical case, None to clear, or a 422 naming the field."""
    if value is None:
        return None
    errs = ErrorList()
    canonical = License().check(value, "default_license", errs)
    if errs.items:
        raise Unprocessable(
            f"default_license: {errs.items[0].message}",
            errors=[{"field": e.field, "message": e.message} for e in errs.items],
        )
    return canonical


async def defaults(engine: AsyncEngine, slug: str) -> dict[str, Any]:
    query = select(groups.c.default_visibility, groups.c.default_license).where(
        groups.c.slug == slug
    )
    async with db.read(engine) as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"there is no group {slug!r}")
    return {"default_visibility": row.default_visibility, "default_license": row.default_license}


async def set_defaults(
    engine: AsyncEngine, slug: str, *, visibility: Any = UNSET, license: Any = UNSET
) -> dict[str, Any]:
    """Change what a group's new assets get; each value is checked before anything is
    written (a bad one changes nothing)."""
    values: dict[str, Any] = {}
    if visibility is not UNSET:
        values["default_visibility"] = visibility_checked(visibility)
    if license is not UNSET:
        values["default_license"] = checked_license(license)
    if values:
        async with db.write(engine) as conn:
            result = await conn.execute(
                update(groups).where(groups.c.slug == slug).values(**values)
            )
            if not result.rowcount:
                raise NotFound(f"there is no group {slug!r}")
    return await defaults(engine, slug)


def visibility_checked(value: Any) -> str:
    return visibility.checked(value, "default_visibility")
