"""Webhooks cannot be aimed inside: every address a webhook's host stands for is checked, when the
office subscribes and at each delivery, and the request goes to the address checked."""
from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notify.adapters.webhooks import AddressRefused, WebhookGuard, inside, parse_networks
from services.notify.delivery import Sender
from shared.config import Settings


def resolving(table: dict[str, list[str]]):
    """A resolver answering from ``table`` (an IP literal stands for itself), counting its calls."""
    calls = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            if host not in table:
                raise OSError("Name or service not known")
            return table[host]
    resolve.calls = calls
    return resolve


@pytest.mark.parametrize("url, kind", [
    ("http://127.0.0.1/hook", "loopback"), ("http://127.8.9.10:8080/", "loopback"), ("http://[::1]/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"), ("http://100.100.100.200/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"), ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"), ("http://10.0.0.5/", "private"), ("http://172.16.3.4/", "private"),
    ("http://192.168.1.1/", "private"), ("http://[fd12:3456::1]/", "unique-local"),
    ("http://224.0.0.1/", "multicast"), ("http://[ff02::1]/", "multicast"), ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"), ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"), ("http://[64:ff9b::a00:1]/", "private"),
    ("http://[2002:c0a8:101::]/", "private"), ("http://100.64.0.1/", "not routed on the public internet"), ("http://240.0.0.1/", "reserved"),
    ("https://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("https://intranet.example/hook", "private"), ("https://half.example/hook", "loopback"),
])
def test_an_address_inside_is_refused_naming_what_it_is(url, kind):
    guard = WebhookGuard(resolver=resolving({"metadata.google.internal": ["169.254.169.254"],
                                             "intranet.example": ["10.1.2.3"],
                                             "half.example": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(AddressRefused, match=kind):
        guard.check(url)


@pytest.mark.parametrize("url, message", [
    ("ftp://hooks.example/", "http:// or https://"), ("file:///etc/passwd", "http:// or https://"),
    ("http:///nohost", "no host"), ("http://user:secret@hooks.example/", "no user or password"),
    ("http://nowhere.example/", "cannot be resolved"), ("http://hooks.example:99999/", "not a URL"),
])
def test_what_is_not_an_http_url_to_a_known_host_is_refused(url, message):
    with pytest.raises(AddressRefused, match=message):
        WebhookGuard(resolver=resolving({"hooks.example": ["93.184.216.34"]})).check(url)


def test_a_public_address_is_called_on_the_address_checked_with_its_name_in_the_host_header():
    target = WebhookGuard(resolver=resolving({"hooks.agency.example": ["93.184.216.34"]})).check(
        "https://hooks.agency.example/zeroclear?x=1")
    assert (target.ip, target.port, target.path, target.host_header) == (
        "93.184.216.34", 443, "/zeroclear?x=1", "hooks.agency.example")
    assert inside(ipaddress.ip_address("93.184.216.34")) is None and inside(ipaddress.ip_address("2001:4860::8888")) is None


def test_the_operator_allows_a_network_explicitly_and_only_that_network():
    guard = WebhookGuard(parse_networks("127.0.0.0/8, fd00:1::/32"), resolver=resolving({}))
    assert guard.check("http://127.0.0.1:8080/hook").ip == "127.0.0.1"
    assert guard.check("http://[::ffff:127.0.0.1]/").ip == "::ffff:7f00:1"
    assert guard.check("http://[fd00:1::5]/").ip == "fd00:1::5"
    for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://[::1]/"):
        with pytest.raises(AddressRefused):
            guard.check(url)
    with pytest.raises(ValueError, match="'10.0.0.300/8' is not a network"):
        parse_networks("127.0.0.0/8,10.0.0.300/8")


class _Receiver:
    """A local HTTP server that records the Host header of each POST and answers ``status``."""

    def __init__(self, status: int = 204, location: str = ""):
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rebinding_after_the_check_cannot_win_the_connection_goes_to_the_address_checked():
    receiver = _Receiver()
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # the name rebinds as soon as it has been checked
    lookups = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)
    try:
        guard = WebhookGuard(parse_networks("127.0.0.0/8"), resolver=rebinding)
        status = guard.post(f"http://hooks.agency.example:{receiver.port}/hook", b"{}", {}, timeout=5)
        assert status == 204 and receiver.hosts == [f"hooks.agency.example:{receiver.port}"]
        assert lookups == ["hooks.agency.example"]  # resolved once, at the check, and connected there
        with pytest.raises(AddressRefused, match="private"):  # the next delivery checks again
            guard.post(f"http://hooks.agency.example:{receiver.port}/hook", b"{}", {}, timeout=5)
    finally:
        receiver.close()


def test_a_redirect_is_never_followed_and_fails_the_delivery_visibly():
    target = _Receiver()
    redirecting = _Receiver(status=307, location=f"http://127.0.0.1:{target.port}/elsewhere")
    settings = Settings.from_env("notify", {})
    sender = Sender(settings, lambda content: None, WebhookGuard(parse_networks("127.0.0.0/8"), resolver=resolving({})))
    delivery = {"delivery_id": "d1", "kind": "alert", "channel": "webhook", "address":
                f"http://127.0.0.1:{redirecting.port}/hook", "subscription": {"secret": "s"},
                "subject": {name: "x" for name in ("alert_id", "subject", "rule", "level", "region", "recipient",
                                                   "deadline", "late_days", "case", "issued_at", "seq")}}
    try:
        with pytest.raises(RuntimeError, match="307: a redirect, which is never followed"):
            sender.send(delivery)
        assert len(redirecting.hosts) == 1 and target.hosts == []
        inside_now = dict(delivery, address="http://169.254.169.254/latest/meta-data/")
        with pytest.raises(AddressRefused, match="cloud metadata"):  # checked again when it is sent
            sender.send(inside_now)
    finally:
        target.close()
        redirecting.close()


def test_over_https_the_pinned_connection_still_checks_the_certificate_of_the_name(tmp_path, monkeypatch):
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.agency.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.agency.example")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    receiver = _Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    guard = WebhookGuard(parse_networks("127.0.0.0/8"), resolver=lambda host, port: ["127.0.0.1"])
    url = f"https://hooks.agency.example:{receiver.port}/hook"
    try:
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):  # not trusted yet: refused
            guard.post(url, b"{}", {}, timeout=5)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # now trusted, for that name only
        assert guard.post(url, b"{}", {}, timeout=5) == 204
        assert names[-1] == "hooks.agency.example" and receiver.hosts == [f"hooks.agency.example:{receiver.port}"]
        other = WebhookGuard(parse_networks("127.0.0.0/8"), resolver=lambda host, port: ["127.0.0.1"])
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|doesn't match|hostname"):
            other.post(f"https://other.agency.example:{receiver.port}/hook", b"{}", {}, timeout=5)
    finally:
        receiver.close()
