"""Which addresses the crawler may connect to (SSRF guard), checked on every address DNS gives, at connection time.

A feed we do not control may link to `http://169.254.169.254/` (cloud metadata), to a router on 192.168.0.1, or to
a name that resolves to 127.0.0.1. Checking the URL's host name is not enough: only the resolved address says where
the connection goes, so the check sits in the name resolver that Twisted's HostnameEndpoint asks right before it
connects (`TWISTED_DNS_RESOLVER`). A blocked address is never handed to the endpoint; a name left with no address
fails as a DNS error, which `AddressFilterMiddleware` turns into a "blocked_address" failure.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from scrapy.resolver import CachingHostnameResolver, HostResolution
from scrapy.utils.datatypes import LocalCache
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver
from zope.interface import provider

logger = logging.getLogger(__name__)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Ranges that `is_global` leaves open but no public web server lives in.
EXTRA_BLOCKED = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class Allowed:
    """One allow-list entry: a network, optionally one port of it ("127.0.0.1:8080", "[::1]:8080", "10.0.0.0/8")."""

    network: IPNetwork
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        text = text.strip()
        host, port = text, None
        if text.startswith("["):  # [v6]:port
            host, _, rest = text[1:].partition("]")
            port = int(rest.removeprefix(":")) if rest else None
        elif text.count(":") == 1:  # v4:port
            host, _, port_text = text.partition(":")
            port = int(port_text)
        return cls(ipaddress.ip_network(host, strict=False), port)

    def admits(self, address: IPAddress, port: int | None) -> bool:
        return address.version == self.network.version and address in self.network and self.port in (None, port)


def parse_allow_list(entries: Iterable[str]) -> tuple[Allowed, ...]:
    """NEWSCRAWLER_ALLOWED_ADDRESSES; a bad entry stops the run, naming the setting and the form expected."""
    try:
        return tuple(Allowed.parse(entry) for entry in entries if entry.strip())
    except ValueError as error:
        raise ValueError(
            f"NEWSCRAWLER_ALLOWED_ADDRESSES: {error}; write addresses or networks, optionally with a port: "
            "127.0.0.1, 127.0.0.0/8, 127.0.0.1:8080, [::1]:8080"
        ) from error


def why_blocked(address: IPAddress) -> str | None:
    """Why the crawler must not connect to `address` ("loopback", "private", "link-local"...), or None if public.

    IPv4 embedded in IPv6 (::ffff:10.0.0.1, 6to4, NAT64) is judged by the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return why_blocked(embedded)
    checks = (
        ("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
        ("private", address.is_private), ("reserved", address.is_reserved),
        ("shared (CGNAT) or translation", any(address in net for net in EXTRA_BLOCKED if net.version == address.version)),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class AddressPolicy:
    allowed: tuple[Allowed, ...] = ()

    def refusal(self, host: str, port: int | None) -> str | None:
        """Why a connection to `host` (an IP address) is refused, or None when it may go ahead."""
        address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: the zone is not part of the address
        if any(entry.admits(address, port) for entry in self.allowed):
            return None
        reason = why_blocked(address)
        return f"{address} is {reason}" if reason else None


@provider(IResolutionReceiver)
class _FilteringReceiver:
    """Passes on the addresses the policy admits; remembers why the others were dropped."""

    def __init__(self, receiver: IResolutionReceiver, host: str, resolver: AddressFilteringResolver) -> None:
        self.receiver, self.host, self.resolver = receiver, host, resolver
        self.admitted = 0
        self.refusal: str | None = None

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 (Twisted's interface)
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        refusal = self.resolver.policy.refusal(address.host, getattr(address, "port", None))
        if refusal is None:
            self.admitted += 1
            self.receiver.addressResolved(address)
        else:
            self.refusal = refusal
            logger.warning("blocked address: %s resolves to %s", self.host, refusal)

    def resolutionComplete(self) -> None:  # noqa: N802
        """Remembered only when nothing was left to connect to, so a later real DNS error is not taken for a block."""
        if self.refusal is not None and not self.admitted:
            self.resolver.refused[self.host.lower()] = self.refusal
        else:
            self.resolver.refused.pop(self.host.lower(), None)
        self.receiver.resolutionComplete()


class AddressFilteringResolver(CachingHostnameResolver):
    """Scrapy's caching IPv4+IPv6 resolver, with every resolved address (cached or fresh) checked by the policy.

    Built by Scrapy from the process settings (`TWISTED_DNS_RESOLVER`); IP literals and numeric forms such as
    `127.1` or `2130706433` go through getaddrinfo too, so they are checked as the address they really are."""

    def __init__(self, reactor: Any, cache_size: int, policy: AddressPolicy) -> None:
        super().__init__(reactor, cache_size)
        self.policy = policy
        self.refused: LocalCache[str, str] = LocalCache(10_000)  # host -> why none of its addresses may be used

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> Self:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        policy = AddressPolicy(parse_allow_list(settings.getlist("NEWSCRAWLER_ALLOWED_ADDRESSES")))
        return cls(reactor, cache_size, policy)

    def resolveHostName(  # noqa: N802 (Twisted's interface)
        self, resolutionReceiver: IResolutionReceiver, hostName: str, portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None, transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        receiver = _FilteringReceiver(resolutionReceiver, hostName, self)
        try:  # an IP address needs no lookup: answered at once, not after a hop through the thread pool
            literal = ipaddress.ip_address(hostName)
        except ValueError:
            return super().resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)
        address_class = IPv4Address if literal.version == 4 else IPv6Address
        receiver.resolutionBegan(HostResolution(hostName))
        receiver.addressResolved(address_class("TCP", str(literal), portNumber))
        receiver.resolutionComplete()
        return receiver

    def refusal_for(self, host: str) -> str | None:
        return self.refused.get(host.lower())
