"""Every third-party module the code imports is a declared dependency (issue 13: httpcore and
http_sf were imported but came in only through other packages)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"vocab", "federation", "registry"}


def imported_modules() -> set[str]:
    found: set[str] = set()
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - OURS - set(sys.stdlib_module_names)


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=![ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_every_imported_module_is_declared() -> None:
    distributions = packages_distributions()
    wanted = declared()
    missing = []
    for module in sorted(imported_modules()):
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not providers & wanted:
            missing.append(f"{module} (from {', '.join(sorted(providers))})")
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_private_internals_have_an_upper_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    httpx = next(r for r in project["dependencies"] if r.startswith("httpx"))
    assert "<" in httpx, "federation/fetcher.py relies on httpx's private _pool"
