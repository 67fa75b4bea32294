"""Server-rendered HTML: templates, static files and the helpers pages share."""
