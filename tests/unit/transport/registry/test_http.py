"""http.py: why a request got no answer, told by the error's type (never by its text), on real
loopback sockets where one can be had; and the NotFound/Denied/Unauthorized kinds of answers."""
import http.server
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
