"""The commons assets: storage, search, changes, imports, samples, places."""
