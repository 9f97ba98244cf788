"""Huquq over HTTPS, as production serves it: a real browser posting real forms. Flask-WTF's
CSRF check demands a same-origin Referer on every HTTPS form post, so a referrer policy that
withholds it from the app itself (``no-referrer``) would refuse every login with a 400."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import PASSWORD
from tests.liveserver import prepare, serving


def _self_signed(folder):
    """A certificate for 127.0.0.1 and its key, made for this test only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("https")
    env = prepare(
        folder, {"coord@example.org": "coordinator"}, PASSWORD, cases=3, seed=4, copied=True
    )
    with serving(env, folder / "gunicorn.log", workers=1, tls=_self_signed(folder)) as served:
        yield served.base


def test_a_browser_logs_in_and_saves_a_form_over_https(browser, https_server):
    context = browser.new_context(base_url=https_server, ignore_https_errors=True)
    page = context.new_page()
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 400 else None)
    try:
        page.goto("/login")
        page.fill("#email", "coord@example.org")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.press("#password", "Enter")
        assert page.url.startswith(https_server)
        assert "/login" not in page.url, page.content()[:2000]
        # A second form after logging in (logging out), posted with its CSRF token.
        response = page.request.get("/dashboard")
        assert response.headers.get("strict-transport-security") == "max-age=63072000"
        assert response.headers.get("referrer-policy") == "same-origin"
        with page.expect_navigation():
            page.click("form[action$='/logout'] button")
        assert "/login" in page.url
    finally:
        context.close()
    assert refused == []
