"""Interop harness: independent ActivityPub implementations run as test peers on 127.0.0.1."""
