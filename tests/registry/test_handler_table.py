"""The inbox's handlers are named functions in one table, behind one block guard."""

from __future__ import annotations

import inspect

from federation.handlers import Activity
from registry.fediverse.blocks import BlockGuard
from registry.fediverse.handler_table import TABLE, build_handlers
from registry.fediverse.inbox_context import InboxContext


def test_every_handler_is_a_named_module_level_function() -> None:
    for activity_type, apply, object_match, prepare in TABLE:
        for function in (apply, object_match, prepare):
            if function is None:
                continue
            assert "<locals>" not in function.__qualname__, (activity_type, function)
            module = inspect.getmodule(function)
            assert getattr(module, function.__name__) is function


def test_the_table_covers_what_the_node_answers() -> None:
    types = {row[0] for row in TABLE}
    assert types == {
        "Follow",
        "Undo",
        "Accept",
        "Reject",
        "Update",
        "Create",
        "Delete",
        "Announce",
        "Move",
    }


def test_a_blocked_sender_is_refused_before_any_handler_runs() -> None:
    context = InboxContext(None, None, blocked=lambda h: False, is_partner=lambda h: True)  # type: ignore[arg-type]
    handlers = build_handlers(context, [BlockGuard(lambda host: host == "bad.example")])
    for activity_type in {row[0] for row in TABLE}:
        body = {"type": activity_type, "actor": "https://bad.example/actor", "object": "x"}
        activity = Activity(1, body, body["actor"], "bad.example", body["actor"])
        assert handlers.refused(activity) == "bad.example is blocked"
        fine = Activity(1, body, body["actor"], "good.example", body["actor"])
        assert handlers.refused(fine) is None
    # An Announce of an object on a blocked host is refused too.
    body = {
        "type": "Announce",
        "actor": "https://good.example/a",
        "object": "https://bad.example/o",
    }
    assert handlers.refused(Activity(1, body, body["actor"], "good.example", body["actor"]))
