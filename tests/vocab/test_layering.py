"""vocab/ is words only: it never imports the layers above it, nor anything that talks to
the network, and each module stays small."""

from __future__ import annotations

import ast
from pathlib import Path

import vocab

PACKAGE = Path(vocab.__file__).parent
FORBIDDEN = {
    "registry",
    "federation",
    "socket",
    "ssl",
    "http",
    "urllib3",
    "httpx",
    "requests",
    "aiohttp",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
}


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_vocab_imports_nothing_from_above_or_from_the_network() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        bad = {n for n in imported_names(path) if n.split(".")[0] in FORBIDDEN}
        bad |= {n for n in imported_names(path) if n == "urllib.request"}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_modules_stay_small() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name
