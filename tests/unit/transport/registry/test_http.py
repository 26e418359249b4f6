"""http.py: why a request got no answer, told by the error's type (never by its text), on real
loopback sockets where one can be had; and the NotFound/Denied/Unauthorized kinds of answers."""
import http.server
import ipaddress
import socket
import ssl
import threading

import pytest
import requests

from pyko.errors import Denied, NotFound, RegistryError, Unauthorized, registry_error
from pyko.transport.registry.http import HttpSession, TransportOptions, causes, short_reason


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _error_of(call):
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the test wants whatever requests raised
        return err
    raise AssertionError("no error")


def test_a_closed_port_is_connection_refused():
    err = _error_of(lambda: requests.get(f"http://127.0.0.1:{_free_port()}/v2/", timeout=5))
    assert short_reason(err) == "connection refused"


def test_tls_spoken_to_a_plain_http_server_is_wrong_version_number():
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        err = _error_of(lambda: requests.get(f"https://127.0.0.1:{server.server_port}/v2/", timeout=5))
    finally:
        server.shutdown()
    assert isinstance(err, requests.exceptions.SSLError)
    assert short_reason(err) == "wrong version number"


def _wrapped(inner):
    """`inner` as requests hands it over: a ConnectionError around urllib3's error around it."""
    try:
        try:
            raise inner
        except OSError as low:
            raise requests.exceptions.ConnectionError("HTTPSConnectionPool(...): Max retries exceeded") from low
    except requests.exceptions.ConnectionError as err:
        return err


@pytest.mark.parametrize("inner, reason", [
    (socket.gaierror(socket.EAI_NONAME, "whatever the resolver says"), "name or service not known"),
    (socket.gaierror(socket.EAI_AGAIN, "whatever the resolver says"), "temporary failure in name resolution"),
    (ConnectionResetError(104, "peer said otherwise"), "connection reset"),
    (TimeoutError("slow"), "timed out"),
    (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] nope"), "certificate verify failed"),
])
def test_reasons_come_from_the_type_under_the_wrapping(inner, reason):
    assert short_reason(_wrapped(inner)) == reason


def test_a_message_that_only_looks_like_a_reason_is_not_one():
    """A server's text saying "Connection refused" does not make a refusal."""
    err = requests.exceptions.ConnectionError("the registry said: Connection refused (Caused by nothing)")
    assert short_reason(err) == "the registry said: Connection refused"


def test_causes_visit_each_error_once_even_in_a_loop():
    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    assert list(causes(a)) == [a, b]


@pytest.mark.parametrize("status, code, kind", [
    (404, "", NotFound), (404, "MANIFEST_UNKNOWN", NotFound), (400, "BLOB_UNKNOWN", NotFound),
    (400, "NAME_UNKNOWN", NotFound), (401, "", Unauthorized), (400, "UNAUTHORIZED", Unauthorized),
    (403, "", Denied), (400, "DENIED", Denied), (400, "MANIFEST_BLOB_UNKNOWN", RegistryError),
    (500, "", RegistryError),
])
def test_answers_are_classified_by_status_and_oci_code(status, code, kind):
    err = registry_error("whatever the text", status, code)
    assert type(err) is kind and (err.status, err.code) == (status, code)


def test_plain_http_targets_only_where_allowed():
    strict = HttpSession(TransportOptions(environ={}), plain_http_allowed=False)
    with pytest.raises(RegistryError, match="plain-HTTP http://uploads.example.com/x; refusing"):
        strict.check_target("http://uploads.example.com/x?secret=1")
    strict.check_target("https://uploads.example.com/x")
    strict.check_target("http://127.0.0.1:5000/x")  # loopback is always allowed
    with pytest.raises(RegistryError, match="not an HTTP"):
        strict.check_target("file:///etc/passwd")
    HttpSession(TransportOptions(insecure=True, environ={}), plain_http_allowed=True).check_target("http://x.io/")


def _tls_server(tmp_path, location):
    """A loopback HTTPS server (its own self-signed certificate) answering every GET with a redirect."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))

    class Redirect(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "tls.crt"), str(tmp_path / "tls.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


def test_a_redirect_from_https_to_plain_http_is_refused_even_to_loopback(tmp_path):
    from pyko.transport.registry.http import HttpSession, TransportOptions

    hit = []

    class Local(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hit.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    local = http.server.HTTPServer(("127.0.0.1", 0), Local)
    threading.Thread(target=local.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    server = _tls_server(tmp_path, f"http://127.0.0.1:{local.server_port}/internal")
    try:
        session = HttpSession(TransportOptions(ca_file=str(tmp_path / "tls.crt"), cache_dir=str(tmp_path)),
                              plain_http_allowed=True)
        with pytest.raises(RegistryError, match="redirected from HTTPS to .*which pyko does not follow"):
            session.send("GET", f"https://127.0.0.1:{server.server_port}/v2/a/blobs/x", {})
        assert hit == []  # the plain-HTTP service was never reached
    finally:
        server.shutdown()
        local.shutdown()


def test_a_certificate_for_another_name_is_said_so_and_not_retried(tmp_path):
    from pyko.transport.registry.http import HttpSession, TlsFailure, TransportOptions

    server = _tls_server(tmp_path, "/")   # its certificate names 127.0.0.1 only
    try:
        session = HttpSession(TransportOptions(ca_file=str(tmp_path / "tls.crt"), cache_dir=str(tmp_path)),
                              plain_http_allowed=False)
        with pytest.raises(TlsFailure, match="certificate of localhost:[0-9]+ is for another name"):
            session.send("GET", f"https://localhost:{server.server_port}/v2/", {})
    finally:
        server.shutdown()
