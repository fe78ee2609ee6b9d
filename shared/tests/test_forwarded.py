"""Who the client is behind a trusted proxy (the tip limiters): the header counts only from one."""
from shared.forwarded import client_address

PORTAL = ("127.0.0.1/32", "::1/128")


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_a_client_that_writes_the_header_itself_is_still_itself():
    assert client_address("203.0.113.9", "198.51.100.1", PORTAL) == "203.0.113.9"


def test_behind_the_portal_the_client_is_the_one_it_names():
    assert client_address("127.0.0.1", "198.51.100.7", PORTAL) == "198.51.100.7"


def test_a_forged_leftmost_entry_does_not_fool_it_the_nearest_untrusted_hop_counts():
    assert client_address("127.0.0.1", "10.9.9.9, 198.51.100.7", PORTAL) == "198.51.100.7"
    assert client_address("::1", "198.51.100.7, 127.0.0.1", PORTAL) == "198.51.100.7"


def test_rubbish_in_the_header_is_just_another_client_key():
    assert client_address("127.0.0.1", "not an address", PORTAL) == "not an address"
    assert client_address("127.0.0.1", " , ", PORTAL) == "127.0.0.1"
