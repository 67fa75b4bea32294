"""Every table on the one metadata is declared by one package: `owners()` names them all."""

from __future__ import annotations

from registry.core.tables import metadata, owners


def test_every_table_has_exactly_one_declaring_package() -> None:
    found = owners()
    assert set(found) == set(metadata.tables), set(metadata.tables) ^ set(found)
    assert set(found.values()) == {"federation", "registry"}
    assert found["inbox_items"] == "federation" and found["assets"] == "registry"
