"""ASGI middleware: canonical host, rate limits, refused NULs."""
