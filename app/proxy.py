"""The client's address as the app sees it, behind a reverse proxy.

gunicorn puts the connecting peer in ``REMOTE_ADDR``; behind a proxy that is the proxy, for
everyone. Like gunicorn's own ``forwarded_allow_ips`` (the same ``FORWARDED_ALLOW_IPS``
setting, the same default), ``X-Forwarded-For`` is believed only when the peer is one of those
addresses: then the client is the right-most address in it that is not a trusted proxy itself.
(A peer with no IP address, on a Unix socket, is trusted, as gunicorn trusts it.) From
anyone else the header is ignored, so a client cannot choose the address it is counted
under (login throttling is per address).
"""

import ipaddress
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4), or None for anything else."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def trusted_networks(setting: str) -> list[Network] | None:
    """The proxies named in ``FORWARDED_ALLOW_IPS`` (addresses or networks, comma separated);
    None means ``*``: any peer is trusted (the operator guarantees only the proxy can connect)."""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    if "*" in names:
        return None
    return [ipaddress.ip_network(name, strict=False) for name in names]


class TrustedProxies:
    """WSGI middleware: ``REMOTE_ADDR`` becomes the client behind trusted proxies (the peer is
    kept in ``huquq.peer_addr``)."""

    def __init__(self, app: Callable, setting: str) -> None:
        self.app = app
        self.networks = trusted_networks(setting)

    def _trusted(self, address: Address | None) -> bool:
        if address is None:
            return False
        if self.networks is None:
            return True
        return any(address.version == n.version and address in n for n in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The address to count this request under."""
        peer_address = parse_address(peer)
        # As gunicorn does: a peer with no IP address (a Unix socket) is the proxy itself.
        if not forwarded_for or (peer_address is not None and not self._trusted(peer_address)):
            return peer
        hops: Iterable[str] = reversed(forwarded_for.split(","))
        client = peer
        for hop in hops:
            address = parse_address(hop)
            if address is None:  # garbage from further out: stop at the last good hop
                break
            client = str(address)
            if not self._trusted(address):
                break
        return client

    def __call__(self, environ: dict, start_response: Callable):
        peer = environ.get("REMOTE_ADDR", "")
        environ["huquq.peer_addr"] = peer
        environ["REMOTE_ADDR"] = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
        return self.app(environ, start_response)
