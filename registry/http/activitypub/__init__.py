"""ActivityPub endpoints: actor, inboxes, collections, partner feeds."""
