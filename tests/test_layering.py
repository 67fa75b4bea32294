"""Imports point one way: vocab ← federation ← registry, and inside registry from the ground
floor up (core ← people ← catalog ← fediverse ← ops ← runtime ← web ← http ← app and cli).

A module may import its own room and the rooms below it, never a room above: so nothing but
the app and the CLI reaches into `http/`, and the catalog never learns about federation."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Registry's rooms, ground floor first. `registry.config` and the package itself (its
# version) are read by everyone.
ROOMS = [
    "registry.config",
    "registry.core",
    "registry.people",
    "registry.catalog",
    "registry.fediverse",
    "registry.ops",
    "registry.runtime",
    "registry.web",
    "registry.http",
    "registry.app",
    "registry.cli",
]
LEVEL = {room: i for i, room in enumerate(ROOMS)} | {"registry.app": 9, "registry.cli": 9}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path) -> list[str]:
    """Every module an import statement in `path` names (`from a import b` gives a and a.b)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def room_of(module: str) -> str | None:
    for room in sorted(ROOMS, key=len, reverse=True):
        if module == room or module.startswith(room + "."):
            return room
    return None


def sources(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def test_vocab_imports_neither_federation_nor_registry() -> None:
    offenders = [
        f"{module_name(p)} -> {name}"
        for p in sources("vocab")
        for name in imports(p)
        if name.split(".")[0] in {"federation", "registry"}
    ]
    assert offenders == []


def test_only_the_offline_loader_imports_pyld() -> None:
    """vocab.loader sets pyld's default document loader to the offline one as it imports
    pyld; pyld is imported on first use (a check worker never needs it), so no other module
    may import pyld itself and run with pyld's own loader, which fetches over the network."""
    offenders = [
        f"{module_name(p)} -> {name}"
        for package in ("vocab", "federation", "registry", "bench")
        for p in sources(package)
        for name in imports(p)
        if name.split(".")[0] == "pyld" and module_name(p) != "vocab.loader"
    ]
    assert offenders == []


def test_federation_never_imports_registry_and_of_vocab_only_the_time_format() -> None:
    """federation/ knows nothing about assets: vocab.times is the one shared piece."""
    offenders = [
        f"{module_name(p)} -> {name}"
        for p in sources("federation")
        for name in imports(p)
        if name.split(".")[0] == "registry"
        or (name.split(".")[0] == "vocab" and name not in {"vocab.times", "vocab.times.iso_utc"})
    ]
    assert offenders == []


def test_registry_rooms_import_only_downwards() -> None:
    offenders = []
    for path in sources("registry"):
        me = room_of(module_name(path))
        if me is None:
            continue  # registry/__init__.py: the version only
        for name in imports(path):
            other = room_of(name)
            if other is not None and LEVEL[other] > LEVEL[me]:
                offenders.append(f"{module_name(path)} ({me}) -> {name} ({other})")
    assert offenders == []


def test_every_registry_module_lives_in_a_room() -> None:
    loose = [
        module_name(p)
        for p in sources("registry")
        if room_of(module_name(p)) is None and module_name(p) != "registry"
    ]
    assert loose == []


def test_no_module_outgrows_a_reading() -> None:
    """~400 lines: what a newcomer reads in one sitting (migrations excepted)."""
    sizes = {
        module_name(p): len(p.read_text(encoding="utf-8").splitlines())
        for package in ("registry", "federation", "vocab")
        for p in sources(package)
    }
    assert {m: n for m, n in sizes.items() if n > 400} == {}
