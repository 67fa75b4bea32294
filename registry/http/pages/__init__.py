"""The web interface's pages: catalog, search, sign-in, members, admin."""
