"""The third-party consumers of the open-data exports, run as they run for their users:
ckanext-dcat's parser (in a venv of its own, built on first use like the interop peers'),
and GDAL's command-line tools (Debian gdal-bin, installed by .ci/run)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.peers import REQUIRED_ENV, VenvError, ensure_venv, venv_python

HERE = Path(__file__).resolve().parent

# ckan 2.11.4's own pinned requirements (its "requirements" extra) with ckanext-dcat 2.4.4, as
# pip resolved them on Python 3.11 (2026-12); the database driver and type-checking pins are
# left out (the parser needs neither). Three are sdists only, hence the --no-binary line.
CKAN_REQUIREMENTS: tuple[str, ...] = (
    "--no-binary=ckantoolkit,feedgen,pysolr",
    "ckan==2.11.4",
    "ckanext-dcat==2.4.4",
    "ckantoolkit==0.0.7",
    "alembic==1.13.2",
    "async-timeout==4.0.3",
    "Babel==2.15.0",
    "bleach==6.1.0",
    "blinker==1.8.2",
    "cachelib==0.13.0",
    "cachetools==8.0.2",
    "certifi==2024.7.4",
    "charset-normalizer==3.3.2",
    "click==8.1.7",
    "dominate==2.9.1",
    "feedgen==1.0.0",
    "Flask==3.0.3",
    "flask-babel==4.0.0",
    "Flask-Login==0.6.3",
    "Flask-Session==0.8.0",
    "Flask-WTF==1.2.1",
    "frozendict==2.5.1",
    "geomet==1.1.0",
    "greenlet==3.0.3",
    "idna==3.7",
    "importlib_metadata==8.0.0",
    "itsdangerous==2.2.0",
    "Jinja2==3.1.6",
    "lxml==5.2.2",
    "Mako==1.3.5",
    "Markdown==3.6",
    "MarkupSafe==2.1.5",
    "msgspec==0.18.6",
    "mypy-extensions==1.0.0",
    "packaging==24.1",
    "passlib==1.7.4",
    "polib==1.2.0",
    "PyJWT==2.8.0",
    "PyLD==3.3.0",
    "pyparsing==3.1.2",
    "pysolr==3.9.0",
    "python-dateutil==2.9.0.post0",
    "python-magic==0.4.27",
    "pytz==2024.1",
    "PyYAML==6.0.1",
    "rdflib==7.6.0",
    "redis==5.0.7",
    "requests==2.32.4",
    "rq==1.16.2",
    "simplejson==3.19.2",
    "six==1.16.0",
    "SQLAlchemy==1.4.52",
    "sqlparse==0.5.0",
    "tomli==2.0.1",
    "typing_extensions==4.12.2",
    "tzlocal==5.2",
    "urllib3==2.2.2",
    "watchdog==4.0.1",
    "webassets==2.0",
    "webencodings==0.5.1",
    "Werkzeug==3.0.6",
    "WTForms==3.1.2",
    "zipp==3.19.2",
    "zope.interface==6.4.post2",
)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRED_ENV} is set)")
    pytest.skip(reason)


def ckan_python() -> Path:
    """The ckan venv's interpreter, built (or reused) under $COMMONS_INTEROP_HOME."""
    try:
        return venv_python(ensure_venv("ckan-dcat", CKAN_REQUIREMENTS))
    except VenvError as exc:
        _unavailable(f"ckan venv unavailable: {exc}")
        raise


def ckan_harvest(catalog_url: str, locale: str = "en") -> dict[str, Any]:
    """Every dataset ckanext-dcat's DCAT-AP 3 parser takes from the catalog, all pages, as a
    portal whose `ckan.locale_default` is `locale` takes them."""
    python = ckan_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMONS_", "PYTHON"))}
    env["NO_PROXY"] = "*"
    result = subprocess.run(
        [str(python), str(HERE / "ckan_harvest.py"), catalog_url, locale],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def ogr_rows(source: str, *layer: str, open_options: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """What GDAL reads from `source`: one dict per feature, its geometry as WKT in `WKT`."""
    if shutil.which("ogr2ogr") is None:
        _unavailable("GDAL (Debian gdal-bin) is not installed; .ci/run installs it")
    argv = ["ogr2ogr", "-f", "CSV", "/vsistdout/", source, *layer]
    argv += ["-lco", "GEOMETRY=AS_WKT"]
    for option in open_options:
        argv += ["-oo", option]
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_CURL_VERBOSE": "NO"}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return list(csv.DictReader(io.StringIO(result.stdout)))


def ogrinfo_count(source: str, layer: str, open_options: tuple[str, ...] = ()) -> int:
    """The feature count `ogrinfo -so` reports for a layer (GDAL names a GeoJSON document's
    one layer after the file, e.g. `assets`)."""
    argv = ["ogrinfo", "-ro", "-so", source, layer]
    for option in open_options:
        argv += ["-oo", option]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("Feature Count:"))
    return int(line.split(":")[1])
