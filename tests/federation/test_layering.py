"""federation/ knows nothing about the application: no import of registry, and of vocab only
the time format every document shares (vocab.times: no asset in it)."""

import ast
from pathlib import Path

ALLOWED = {"vocab.times"}
FEDERATION = Path(__file__).resolve().parents[2] / "federation"


def test_federation_never_imports_registry_or_vocab() -> None:
    offenders = []
    for path in FEDERATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in {"registry", "vocab"} and n not in ALLOWED
            ]
    assert offenders == []


def test_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in FEDERATION.rglob("*.py")}
    assert max(sizes.values()) < 400, sizes
