"""Webhooks that cannot be aimed inside (server-side request forgery).

An agency's webhook must reach the agency, not this server's own network: an address whose host
is, or resolves to, a loopback, link-local, private, unique-local, multicast, unspecified,
reserved or cloud-metadata address is refused — unless the operator allows its network
explicitly (``ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS``, CIDRs separated by commas). Every
address the name resolves to must pass, when the office subscribes and again at each delivery
(DNS can change); the request then goes to the address just checked, with the name only in the
``Host`` header and the TLS check, so a rebinding between the check and the connection cannot
win. Redirects are never followed. Only ``http`` and ``https``.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlsplit

import urllib3

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

#: Instance metadata services that clouds answer on (AWS, GCP, Azure, OpenStack; ECS; Alibaba; AWS over IPv6).
METADATA = frozenset(map(ipaddress.ip_address, ("169.254.169.254", "169.254.170.2", "100.100.100.200",
                                                "fd00:ec2::254")))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_KINDS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("a cloud metadata address", lambda ip: ip in METADATA),
    ("a loopback address", lambda ip: ip.is_loopback),
    ("an unspecified address", lambda ip: ip.is_unspecified),
    ("a link-local address", lambda ip: ip.is_link_local),
    ("a multicast address", lambda ip: ip.is_multicast),
    ("a unique-local address", lambda ip: ip.version == 6 and ip in ipaddress.ip_network("fc00::/7")),
    ("a reserved address", lambda ip: ip.is_reserved),
    ("a private address", lambda ip: ip.is_private),
    ("an address not routed on the public internet", lambda ip: not ip.is_global),  # 100.64/10 and the like
)


class AddressRefused(ValueError):
    """A webhook address that may not be called; the message says why, for the office."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.0/8, ::1"`` → networks; ValueError naming the bad entry."""
    networks = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a network (CIDR such as 10.1.0.0/16 or fd00::/8)") from None
    return tuple(networks)


def inside(ip: IPAddress) -> str | None:
    """What makes ``ip`` an address of the inside (``"a loopback address"``…), or None."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return inside(embedded)
    return next((kind for kind, test in _KINDS if test(ip)), None)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, IPv4-compatible), if any."""
    if ip.version == 4:
        return None
    for carried in (ip.ipv4_mapped, ip.sixtofour):
        if carried is not None:
            return carried
    if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` stands for (an IP literal stands for itself), as the system resolves it."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(address[4][0] for address in found))


@dataclass(frozen=True)
class Target:
    """A checked webhook: where to connect (``ip``) and what to say (``host``, ``path``)."""

    scheme: str
    host: str
    port: int
    path: str
    ip: str

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == {"http": 80, "https": 443}[self.scheme] else f"{name}:{self.port}"


class WebhookGuard:
    def __init__(self, allow: Iterable[Network] = (), resolver: Resolver = resolve):
        self.allow = tuple(allow)
        self.resolver = resolver

    def check(self, url: str) -> Target:
        """The target ``url`` names, once every address it resolves to may be called."""
        scheme, host, port, path = _parts(url)
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise AddressRefused(f"the host {host} cannot be resolved ({exc})") from None
        if not addresses:
            raise AddressRefused(f"the host {host} resolves to no address")
        for ip in addresses:
            kind = inside(ip)
            if kind is not None and not self._allowed(ip):
                raise AddressRefused(f"{host} is {kind} ({ip}): webhooks may not be aimed inside; an operator "
                                     f"allows a network with ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS")
        return Target(scheme, host, port, path, str(addresses[0]))

    def _allowed(self, ip: IPAddress) -> bool:
        candidates = [ip] + ([embedded] if (embedded := _embedded_ipv4(ip)) is not None else [])
        return any(candidate in network for candidate in candidates for network in self.allow
                   if candidate.version == network.version)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST ``body`` to ``url``, checked now and connected to the address checked; the status.
        A redirect is an answer like any other: never followed."""
        target = self.check(url)
        options = {"server_hostname": target.host, "assert_hostname": target.host} if target.scheme == "https" else {}
        pool_class = urllib3.HTTPSConnectionPool if target.scheme == "https" else urllib3.HTTPConnectionPool
        with pool_class(target.ip, target.port, timeout=urllib3.Timeout(total=timeout), retries=False, maxsize=1,
                        **options) as pool:
            answer = pool.urlopen("POST", target.path, body=body, headers={**headers, "Host": target.host_header},
                                  redirect=False, retries=False, assert_same_host=False, preload_content=True)
        return answer.status


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("a webhook is an http:// or https:// URL")
    if not parts.hostname:
        raise AddressRefused("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("no user or password in a webhook URL: the signature header authenticates each call")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or {"http": 80, "https": 443}[parts.scheme], path
