"""The one table of `commons-registry` commands, and the argparse parser built from it.

A command is written once: its function, decorated with `@command("group create", help=...,
arguments=[arg("name"), ...])`. A name with a space is a subcommand; its parent ("group") is
registered with `command_group`, or is itself a command when running it bare means something
(`followers` lists). The parser, its help and the dispatch all come from `COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry import __version__
from registry.config import CONFIG_ENV

Run = Callable[[Any, argparse.Namespace], int]


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call, kept until the parser is built."""

    flags: tuple[str, ...]
    options: dict[str, Any]


@dataclass(frozen=True)
class OneOf:
    """Arguments of which exactly one (or at most one, if not required) may be given."""

    choices: tuple[Arg, ...]
    required: bool = True


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def one_of(*choices: Arg, required: bool = True) -> OneOf:
    return OneOf(choices, required)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    arguments: tuple[Arg | OneOf, ...] = ()
    run: Run | None = None  # None: only a group of subcommands
    needs_settings: bool = True  # False: runs without a configuration (`config example`)
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        return self.name.split()


COMMANDS: dict[str, Command] = {}


def _register(entry: Command) -> None:
    if entry.name in COMMANDS:
        raise ValueError(f"command {entry.name!r} is registered twice")
    parent = " ".join(entry.words[:-1])
    if parent and parent not in COMMANDS:
        raise ValueError(f"{entry.name!r} needs its group {parent!r} registered first")
    COMMANDS[entry.name] = entry


def command(
    name: str,
    help: str,
    arguments: Sequence[Arg | OneOf] = (),
    needs_settings: bool = True,
    defaults: dict[str, Any] | None = None,
) -> Callable[[Run], Run]:
    """Register the decorated function as the command `name`; it may be applied more than once."""

    def register(run: Run) -> Run:
        _register(Command(name, help, tuple(arguments), run, needs_settings, defaults or {}))
        return run

    return register


def command_group(name: str, help: str) -> None:
    """A command that only holds subcommands (one of which must be given)."""
    _register(Command(name, help))


def _add_arguments(parser: argparse.ArgumentParser, arguments: Sequence[Arg | OneOf]) -> None:
    for item in arguments:
        if isinstance(item, OneOf):
            group = parser.add_mutually_exclusive_group(required=item.required)
            for choice in item.choices:
                group.add_argument(*choice.flags, **choice.options)
        else:
            parser.add_argument(*item.flags, **item.options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-registry", description="A federated registry of commons assets."
    )
    parser.add_argument("--config", help=f"TOML configuration file (or set {CONFIG_ENV})")
    parser.add_argument("--version", action="version", version=__version__)
    parsers: dict[str, argparse.ArgumentParser] = {"": parser}
    subparsers: dict[str, Any] = {}
    for entry in COMMANDS.values():
        parent = " ".join(entry.words[:-1])
        if parent not in subparsers:
            holder = COMMANDS.get(parent)
            subparsers[parent] = parsers[parent].add_subparsers(
                # The dest names the missing subcommand in argparse's error ("group_command").
                dest=f"{entry.words[-2]}_command" if parent else "command",
                required=holder is None or holder.run is None,
            )
        sub = subparsers[parent].add_parser(entry.words[-1], help=entry.help)
        _add_arguments(sub, entry.arguments)
        sub.set_defaults(entry=entry, **entry.defaults)
        parsers[entry.name] = sub
    return parser
