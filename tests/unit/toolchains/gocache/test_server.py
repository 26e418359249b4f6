"""The GOCACHEPROG server, spoken to as Go speaks to it: JSON lines, put bodies as base64 strings."""
import base64
import hashlib
import io
import json
import os

from pyko.toolchains.gocache.layout import output_path, read_action
from pyko.toolchains.gocache.server import CacheServer, serve


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_the_protocol_round_trip_put_then_get_then_close(tmp_path):
    body = b"an object file"
    action, output = os.urandom(32), hashlib.sha256(body).digest()
    requests = "\n".join([
        json.dumps({"ID": 1, "Command": "get", "ActionID": b64(action)}),
        json.dumps({"ID": 2, "Command": "put", "ActionID": b64(action), "OutputID": b64(output),
                    "BodySize": len(body)}),
        json.dumps(b64(body)),
        json.dumps({"ID": 3, "Command": "get", "ActionID": b64(action)}),
        json.dumps({"ID": 4, "Command": "close"}),
    ]) + "\n"
    out = io.StringIO()
    serve(str(tmp_path), io.StringIO(requests), out)
    first, *answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first == {"ID": 0, "KnownCommands": ["get", "put", "close"]}
    assert answers[0] == {"ID": 1, "Miss": True}
    assert answers[1]["ID"] == 2 and open(answers[1]["DiskPath"], "rb").read() == body
    assert answers[2]["OutputID"] == b64(output) and answers[2]["Size"] == len(body)
    assert answers[2]["Time"].endswith("Z") and open(answers[2]["DiskPath"], "rb").read() == body
    assert answers[3] == {"ID": 4}
    used = open(next((tmp_path / "used").iterdir())).read().split()
    assert used == ["put", action.hex(), "hit", action.hex()]


def test_a_damaged_or_forged_output_is_a_miss_never_served(tmp_path):
    body = b"compiled package"
    action, output = os.urandom(32), hashlib.sha256(body).digest()
    CacheServer(str(tmp_path)).handle({"ID": 1, "Command": "put", "ActionID": b64(action),
                                       "OutputID": b64(output), "BodySize": len(body)}, body)
    found = read_action(str(tmp_path), action.hex())
    with open(output_path(str(tmp_path), found[0]), "wb") as f:
        f.write(b"compiled pickage")   # same size, other bytes
    assert CacheServer(str(tmp_path)).handle({"ID": 2, "Command": "get", "ActionID": b64(action)}, None) == {
        "ID": 2, "Miss": True}


def test_bad_requests_are_errors_not_crashes(tmp_path):
    server = CacheServer(str(tmp_path))
    assert "Err" in server.handle({"ID": 1, "Command": "get", "ActionID": "not base64!"}, None)
    assert "Err" in server.handle({"ID": 2, "Command": "get", "ActionID": b64(b"short")}, None)
    wrong = server.handle({"ID": 3, "Command": "put", "ActionID": b64(os.urandom(32)),
                           "OutputID": b64(os.urandom(32)), "BodySize": 3}, b"abc")
    assert "does not hash to its output id" in wrong["Err"]
    assert "unknown command" in server.handle({"ID": 4, "Command": "get2"}, None)["Err"]
