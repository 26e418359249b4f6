"""A GOCACHEPROG server: Go's build cache served from a directory pyko fills from a registry.

Go (1.24 and later) starts `python -m pyko.toolchains.gocache.server DIR` and speaks the cacheprog
protocol (cmd/go/internal/cacheprog) over stdin and stdout: JSON requests, one per line, each
`put` followed by its body as a base64 JSON string; JSON responses, the first announcing the
commands it knows. Entries live in DIR as layout.py lays them out.

An entry is served only if its output's bytes hash to its output id, and its action entry is well
formed: a damaged entry is a miss, and Go compiles the package again. That alone cannot catch a
forged cache (whoever writes an action entry also chooses its output), which is why DIR only ever
holds a cache whose signature the build's cache policy verified, unpacked whole
(commands/go_build_cache.py), or one the user chose to trust unverified (--cache-trust=none).
Each process also appends the actions it served or stored to DIR/used/<pid>, so pyko knows which
entries this build used when it saves the cache.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import sys
import time
from typing import IO, Dict, Optional

from ...util.jsontypes import JsonObject
from .layout import action_path, output_is_intact, output_path, read_action, record_use, use_log, write_atomically

KNOWN = ["get", "put", "close"]


class CacheServer:
    def __init__(self, root: str, used: Optional[IO[str]] = None):
        self.root = root
        self.used = used
        self.verified: Dict[str, bool] = {}

    def handle(self, request: JsonObject, body: Optional[bytes]) -> JsonObject:
        command, ident = request.get("Command"), request.get("ID", 0)
        try:
            if command == "get":
                return {"ID": ident, **self.get(_hex(request.get("ActionID")))}
            if command == "put":
                return {"ID": ident, **self.put(_hex(request.get("ActionID")), _hex(request.get("OutputID")),
                                                body or b"")}
            if command == "close":
                return {"ID": ident}
        except (OSError, ValueError) as err:
            return {"ID": ident, "Err": f"pyko cache: {err}"}
        return {"ID": ident, "Err": f"pyko cache: unknown command {command!r}"}

    def get(self, action: str) -> JsonObject:
        found = read_action(self.root, action)
        if found is None:
            return {"Miss": True}
        output, size, nanos = found
        if output not in self.verified:
            self.verified[output] = output_is_intact(self.root, output, size)
        if not self.verified[output]:
            return {"Miss": True}
        self._note("hit", action)
        when = datetime.datetime.fromtimestamp(nanos / 1e9, datetime.timezone.utc)
        return {"OutputID": _b64(output), "Size": size, "Time": when.isoformat().replace("+00:00", "Z"),
                "DiskPath": os.path.abspath(output_path(self.root, output))}

    def put(self, action: str, output: str, body: bytes) -> JsonObject:
        if hashlib.sha256(body).hexdigest() != output:
            raise ValueError("the body Go sent does not hash to its output id")
        path = output_path(self.root, output)
        if not (os.path.exists(path) and self.verified.get(output)):
            write_atomically(path, body)
            self.verified[output] = True
        write_atomically(action_path(self.root, action), f"{output} {len(body)} {time.time_ns()}".encode())
        self._note("put", action)
        return {"DiskPath": os.path.abspath(path)}

    def _note(self, kind: str, action: str) -> None:
        if self.used is not None:
            record_use(self.used, kind, action)


def _hex(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a request without its id")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("an id that is not base64") from None
    if len(raw) != 32:
        raise ValueError("an id that is not 32 bytes")
    return raw.hex()


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def serve(root: str, requests: IO[str], responses: IO[str]) -> None:
    with use_log(root) as used:
        server = CacheServer(root, used)
        responses.write(json.dumps({"ID": 0, "KnownCommands": KNOWN}) + "\n")
        responses.flush()
        for line in requests:
            if not line.strip():
                continue
            request = json.loads(line)
            body = None
            if request.get("Command") == "put" and request.get("BodySize", 0) > 0:
                body = base64.b64decode(json.loads(_next_value(requests)))
            responses.write(json.dumps(server.handle(request, body)) + "\n")
            responses.flush()
            if request.get("Command") == "close":
                return


def _next_value(requests: IO[str]) -> str:
    for line in requests:
        if line.strip():
            return line
    raise EOFError("the body of a put never came")


if __name__ == "__main__":  # pragma: no cover - run by go, exercised end to end
    serve(sys.argv[1], sys.stdin, sys.stdout)
