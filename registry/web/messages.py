"""Federation errors in the words of the admin who met them.

Resolving a partner fails deep in DNS, TCP or TLS, and the exception text ("[Errno -2] Name
or service not known") means little to most people. The page shows a sentence saying what
happened and what to try, and keeps the technical text below it for whoever needs it."""

from __future__ import annotations

from registry.web.i18n import N_
from registry.web.render import _, environment

# (fragments of the technical text, lower case) -> what to say
_KNOWN: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("errno -2", "errno -3", "errno -5", "name or service not known", "nodename nor servname",
         "name resolution", "no address associated"),
        N_("No server answers to that name. Check the spelling of the address."),
    ),
    (
        ("connection refused", "errno 111", "connect call failed"),
        N_("The server refused the connection; it may be down. Try again later."),
    ),
    (
        ("timed out", "timeout"),
        N_("The server took too long to answer. Try again later."),
    ),
    (
        ("certificate", "ssl", "tls"),
        N_("The server's HTTPS certificate could not be checked, so it was not trusted."),
    ),
    (
        ("private", "blocked address", "not allowed to fetch", "loopback"),
        N_("That address is on a private network; partner nodes must be public servers."),
    ),
    (
        ("http 404", "status 404", "404"),
        N_("The server answered, but there is no registry at that address."),
    ),
    (
        ("http 401", "http 403", "status 401", "status 403"),
        N_("The server refused to show its registry to us."),
    ),
    (
        ("webfinger", "not an actor", "no actor", "actor document"),
        N_("The server answered, but it does not look like a commons registry."),
    ),
)  # fmt: skip


def human(detail: str) -> tuple[str, str]:
    """(a sentence for people, the technical text or "" when the sentence is all there is)."""
    lowered = detail.lower()
    for fragments, sentence in _KNOWN:
        if any(f in lowered for f in fragments):
            return _(sentence), detail
    return detail, ""


# The partners page shows each partner's last sync error through this filter.
environment.filters["human_error"] = lambda detail: human(detail)[0] if detail else detail
