"""A fault-injecting HTTP proxy to put in front of the real registry.

Each request is decided by a seeded random draw keyed on (seed, method, path
with upload-session ids blanked, how many times that key was seen), so a seed
gives the same faults on every run whatever the order threads run in. Faults:

- `503`      answered 503 without forwarding
- `429`      answered 429 with Retry-After: 1, without forwarding
- `reset`    forwarded (the registry acts on it), then the connection is reset
             before any answer reaches the client
- `truncate` (GET with a body) forwarded, half the body sent, connection closed
- `corrupt`  (GET with a body) forwarded, one byte of the body flipped, at a place drawn like the
             fault itself: damage on the way lands anywhere, so two damaged answers differ (pyko
             stops at once only when the same bad bytes come twice: those the registry holds)

The Host header is forwarded unchanged, so the registry's Location headers
point back at the proxy. Counts of each fault injected are in `injected`.
"""
from __future__ import annotations

import collections
import http.client
import random
import re
import socket
import socketserver
import struct
import threading
from typing import Dict, Optional, Tuple

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
_SESSION_ID = re.compile(r"/uploads/[^/?]+")


class FaultProxy:
    def __init__(self, upstream: str, seed: int, rates: Dict[str, float], only: str = ""):
        self.upstream = upstream              # host:port of the real registry
        self.seed, self.rates = seed, dict(rates)
        self.only = re.compile(only) if only else None   # faults only for paths this searches into
        self.injected: Dict[str, int] = collections.Counter()
        self.requests = 0
        self._seen: Dict[str, int] = collections.Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                proxy._serve(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- decisions ---------------------------------------------------------
    def _decide(self, method: str, path: str) -> Tuple[Optional[str], float]:
        """(the fault for this request or None, a second draw: where a corruption lands)."""
        key = f"{method} {_SESSION_ID.sub('/uploads/*', path.split('?', 1)[0])}"
        with self._lock:
            self._seen[key] += 1
            self.requests += 1
            draws = random.Random(f"{self.seed}:{key}:{self._seen[key]}")
        draw, where = draws.random(), draws.random()
        if self.only is not None and not self.only.search(path):
            return None, where
        for fault, rate in self.rates.items():
            if fault in ("truncate", "corrupt") and method != "GET":
                continue
            if draw < rate:
                return fault, where
            draw -= rate
        return None, where

    def _count(self, fault: str) -> None:
        with self._lock:
            self.injected[fault] += 1

    # --- one client connection ------------------------------------------------
    def _serve(self, conn: socket.socket, rfile) -> None:
        while True:
            request = _read_request(rfile)
            if request is None:
                return
            method, path, headers, body = request
            fault, where = self._decide(method, path)
            if fault in ("503", "429"):
                self._count(fault)
                extra = {"Retry-After": "1"} if fault == "429" else {}
                _write(conn, int(fault), extra, b'{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}')
                continue
            status, reason, out_headers, out_body = self._forward(method, path, headers, body)
            if fault == "reset":
                self._count(fault)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            if fault in ("truncate", "corrupt") and len(out_body) > 1:
                self._count(fault)
                if fault == "truncate":
                    _write(conn, status, out_headers, out_body, reason, cut=len(out_body) // 2)
                    conn.close()
                    return
                at = int(where * len(out_body))
                out_body = out_body[:at] + bytes([out_body[at] ^ 0xFF]) + out_body[at + 1:]
            _write(conn, status, out_headers, out_body, reason, head=method == "HEAD")
            if headers.get("connection", "").lower() == "close":
                return

    def _forward(self, method, path, headers, body):
        upstream = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                if name not in HOP_BY_HOP and name != "content-length":
                    upstream.putheader(name, value)
            if body or method in ("PUT", "POST", "PATCH"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body)
            resp = upstream.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            return resp.status, resp.reason, out, data
        finally:
            upstream.close()


def _read_request(rfile):
    line = rfile.readline(65537)
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) != 3 or not parts[0].isalpha():
        return None  # closed, or not HTTP (a TLS ClientHello when a client tries HTTPS first): drop it
    method, path, _ = parts
    headers = {}
    while True:
        header = rfile.readline(65537).decode("latin-1")
        if header in ("\r\n", "\n", ""):
            break
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(rfile.readline().split(b";")[0], 16)
            if size == 0:
                rfile.readline()
                break
            body += rfile.read(size)
            rfile.readline()
    else:
        body = rfile.read(int(headers.get("content-length") or 0))
    return method, path, headers, body


def _write(conn, status, headers, body, reason="", cut=None, head=False):
    if isinstance(headers, dict):
        headers = list(headers.items())
    lines = [f"HTTP/1.1 {status} {reason or http.client.responses.get(status, '')}"]
    has_length = any(k.lower() == "content-length" for k, _ in headers)
    lines += [f"{k}: {v}" for k, v in headers if not (k.lower() == "content-length" and not head)]
    if not head or not has_length:
        lines.append(f"Content-Length: {len(body)}")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if not head:
        payload += body if cut is None else body[:cut]
    try:
        conn.sendall(payload)
    except OSError:
        pass
