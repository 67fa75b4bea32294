"""The shipped systemd units pass `systemd-analyze verify` and score well on its security
review. (The nginx site is checked by `nginx -t` and used by the production-mode test.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)"
)


def installed_here(tmp_path: Path) -> list[Path]:
    """The units with the install prefix pointing at this checkout's venv, so that verify
    can check that each ExecStart is an executable."""
    venv = Path(sys.prefix)
    out = []
    for unit in UNITS:
        target = tmp_path / unit.name
        target.write_text(unit.read_text().replace("/opt/commons-registry/.venv", str(venv)))
        out.append(target)
    return out


def test_both_units_are_shipped() -> None:
    assert [u.name for u in UNITS] == [
        "commons-registry-worker.service",
        "commons-registry.service",
    ]
    for unit in UNITS:
        text = unit.read_text()
        for setting in ("NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict"):
            assert setting in text, f"{unit.name} lacks {setting}"
        assert re.search(r"^User=commons-registry$", text, re.M), unit.name


@needs_analyze
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    units = installed_here(tmp_path)
    result = subprocess.run(
        [ANALYZE, "verify", *map(str, units)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@needs_analyze
def test_units_are_hardened(tmp_path: Path) -> None:
    for unit in installed_here(tmp_path):
        result = subprocess.run(
            [ANALYZE, "security", "--offline=yes", "--threshold=20", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
        assert score, result.stdout + result.stderr
        assert float(score.group(1)) <= 2.0, f"{unit.name}: exposure {score.group(1)}"
