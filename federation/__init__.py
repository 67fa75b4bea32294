"""How ActivityPub servers talk: keys, HTTP signatures, the safe fetcher, proofs, documents.

Knows nothing about what is published; never imports `registry` or `vocab`. Nothing is
imported here: a process that needs one part (a check worker: proofs) does not pay for the
rest (the fetcher and its HTTP client).
"""
