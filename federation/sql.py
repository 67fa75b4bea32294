"""The conventions every table of the node follows, whichever package declares it.

One `MetaData` holds the federation layer's tables and the application's, so that migrations,
test set-up and constraint names see one schema: one naming convention, one id type, one
kind of time column.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that are still SQLite rowid aliases (SQLite only auto-increments INTEGER PKs).
Id = BigInteger().with_variant(Integer, "sqlite")


def utc() -> DateTime:
    """A point in time, stored with its zone (UTC); SQLite hands it back naive."""
    return DateTime(timezone=True)
