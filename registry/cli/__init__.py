"""The `commons-registry` command line.

Every command is registered once, in `registry.cli.table.COMMANDS`, by the modules of its room:
`node` (init, migrate, serve, worker, doctor, backup, restore, config), `people` (group, token,
member), `catalog` (import, sample) and `fediverse` (follow, followers, partner, sync, blocks).
"""

from __future__ import annotations

import importlib
import sys

from registry.cli.table import COMMANDS, build_parser
from registry.config import ConfigError, load_settings
from registry.core import migrate
from registry.core.errors import Problem
from registry.ops import logs

__all__ = ["COMMANDS", "build_parser", "main"]

# Importing a room registers its commands; this order is the order of `--help`.
ROOMS = ("node", "people", "catalog", "fediverse", "group_moves")
for _room in ROOMS:
    importlib.import_module(f"registry.cli.{_room}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = None
    if args.entry.needs_settings:
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        logs.configure(settings.server.log_level, settings.server.log_format)
    try:
        return int(args.entry.run(settings, args))
    except migrate.SchemaBehind as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Problem as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
