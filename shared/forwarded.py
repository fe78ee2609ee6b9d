"""Who the client is, behind proxies we trust: the nearest address in ``X-Forwarded-For`` that is
not one of our own proxies (the portal, a reverse proxy), read from the right as RFC 7239 §5.2
advises, so a client cannot pass itself off as another by writing the header itself. Used for
rate limits and logs; nothing stores the address."""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(block, strict=False) for block in trusted)


def _trusted(address: str, networks: Iterable) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(remote: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address: ``remote`` itself unless it is a trusted proxy, then the rightmost
    ``X-Forwarded-For`` entry that is not a trusted proxy (the leftmost if all of them are)."""
    remote = remote or ""
    if not trusted or not forwarded_for or not _trusted(remote, _networks(trusted)):
        return remote
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, _networks(trusted)):
            return hop
    return hops[0] if hops else remote


class TrustedProxies:
    """WSGI middleware: behind ``trusted`` proxies, the request's ``REMOTE_ADDR`` is the client
    they forward for (``client_address``), and its scheme the one the nearest proxy saw."""

    def __init__(self, app, trusted: tuple[str, ...]):
        self.app, self.trusted = app, trusted

    def __call__(self, environ, start_response):
        remote = environ.get("REMOTE_ADDR")
        if remote and _trusted(remote, _networks(self.trusted)):
            environ["REMOTE_ADDR"] = client_address(remote, environ.get("HTTP_X_FORWARDED_FOR"), self.trusted)
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)
