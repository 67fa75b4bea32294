"""The commons registry: the application (storage, API, pages, command line)."""

__version__ = "0.1.0"
