"""Running the node in production: health checks, metrics, request logs, diagnostics."""
