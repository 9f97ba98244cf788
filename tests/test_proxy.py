"""The client's address behind a reverse proxy: believed only from the proxies trusted."""

import pytest

from app.proxy import TrustedProxies


@pytest.mark.parametrize(
    ("setting", "peer", "forwarded", "client"),
    [
        ("127.0.0.1", "127.0.0.1", "203.0.113.9", "203.0.113.9"),  # from the proxy
        ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),  # no header: the peer itself
        ("127.0.0.1", "198.51.100.7", "203.0.113.9", "198.51.100.7"),  # not the proxy
        # The client is the right-most address that is not a proxy: what a client writes
        # itself into the header comes before it and is ignored.
        ("127.0.0.1,10.0.0.0/8", "127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        ("127.0.0.1", "127.0.0.1", "garbage, 203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "127.0.0.1", "203.0.113.9, garbage", "127.0.0.1"),
        ("*", "198.51.100.7", "2001:db8::1", "2001:db8::1"),
        ("::1", "::ffff:127.0.0.1", "203.0.113.9", "::ffff:127.0.0.1"),
        ("127.0.0.1", "", "203.0.113.9", "203.0.113.9"),  # a Unix socket: the proxy itself
    ],
)
def test_the_client_address(setting, peer, forwarded, client):
    assert TrustedProxies(None, setting).client(peer, forwarded) == client


def test_ipv6_clients_are_counted_by_their_64_network(ctx):
    from app.auth.services import address_key

    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:203.0.113.9") == address_key("203.0.113.9")
    assert address_key("203.0.113.9") != address_key("203.0.113.10")
