"""The repository names nothing outside itself: no folder beside the checkout, no absolute path
of one machine. (A clone anywhere must install, run and pass its tests with nothing beside it.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Folders of a developer's or CI's machine. (The deployment files name the install prefix of a
# deployed node, /opt/commons-registry, on purpose: that is the server's layout, not ours.)
OUTSIDE = re.compile(
    r"\.\./shared|COMMONS_SHARED_DATA|(?<![\w.])/(?:work|home|root|tmp|mnt)/[\w.-]"
)
BINARY = {".gz", ".png", ".jpg", ".ico", ".woff", ".woff2", ".pyc"}


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        return [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an exported tree without git
        skip = {".git", ".venv", ".interop", "test-artifacts", "data"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_no_file_names_a_path_outside_the_repository() -> None:
    found = []
    for path in tracked_files():
        if path.suffix in BINARY or not path.is_file() or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "paths outside the repository:\n" + "\n".join(found)
