"""Logging for the node's own loggers (`registry.*`, `federation.*`).

uvicorn configures only its own loggers, so without this our messages (sync progress, refused
activities, dead deliveries) would reach the console only at WARNING and above. With
`server.log_format = "json"` each line is a JSON object carrying the request id
(`registry.ops.requestlog`).
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OURS = ("registry", "federation", "vocab")


def configure(level: str, log_format: str = "text") -> None:
    """Show our loggers' messages from `level` up on stderr (a root handler is added only
    when nobody configured one, so a host application's or pytest's logging stays in charge)."""
    for name in OURS:
        logging.getLogger(name).setLevel(level.upper())
    if logging.getLogger().handlers:
        return
    if log_format == "json":
        from registry.ops.requestlog import JsonFormatter, RequestIdFilter

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        logging.getLogger().addHandler(handler)
    else:
        logging.basicConfig(stream=sys.stderr, format=FORMAT)
