"""The one retry policy for registry requests.

Every registry operation runs as `policy.run(what, attempt)`: `attempt` makes
the request(s) and reads what it needs; a `Transient` raised anywhere inside
it (a 5xx, 408 or 429, a dropped or reset connection, a timeout, a truncated
body, a body whose digest does not match) makes the policy wait and call
`attempt` again, with exponential backoff and jitter, Retry-After honoured
(capped), until the budget of retries or the operation's deadline runs out.
TLS failures and other 4xx answers are never Transient: they are answers.

What one attempt repeats depends on the kind of request, and that is decided
by the operation that owns the loop:

| kind                         | one attempt is                                     |
|------------------------------|----------------------------------------------------|
| GET/HEAD manifest, blob, /v2/ | the request and reading (and checking) its body    |
| token exchange               | the request to the realm                           |
| POST that starts an upload   | the POST (an orphaned session is harmless)         |
| blob upload (POST + PUT)     | a new session and the whole body, streamed again   |
| PUT of a manifest or a tag   | the PUT (content-addressed: repeating is harmless) |
"""
from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from ...errors import RegistryError

T = TypeVar("T")

#: Answers worth asking again: the registry or something in front of it is
#: overloaded, restarting or timed out.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0      # seconds: a registry asking for more is treated as down
MAX_BACKOFF = 30.0


class Transient(Exception):
    """A failure worth one more attempt; `reason` says what happened, for the user.

    `bad_body`: the answer came whole but its bytes (whose digest this is) failed their digest or
    schema check. Bytes damaged on the way differ each time and are fetched again as any transient
    fault is; the same bad bytes twice are what the registry holds, and it will send them every
    time: then pyko stops at once instead of retrying for minutes."""

    def __init__(self, reason: str, status: int = 0, retry_after: Optional[float] = None, bad_body: str = "",
                 unreachable: bool = False):
        super().__init__(reason)
        self.reason, self.status, self.retry_after, self.bad_body = reason, status, retry_after, bad_body
        #: No connection could be made (the name does not resolve, the port refuses, no route): worth
        #: retrying only with a registry that has answered before (restarting), never with one that has not.
        self.unreachable = unreachable


def retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def parse_retry_after(value: str) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class RetryCounter:
    """How many retries a client made, for the summary line; thread-safe."""

    count: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


class RetryPolicy:
    def __init__(self, retries: int = 8, backoff: float = 0.5, deadline: float = 300.0,
                 on_retry: Optional[Callable[[str], None]] = None, counter: Optional[RetryCounter] = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.retries, self.backoff, self.deadline = retries, backoff, deadline
        self.on_retry = on_retry or (lambda message: None)
        self.counter = counter or RetryCounter()
        self._sleep, self._clock = sleep, clock

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return min(self.backoff * (2.0 ** attempt) * (0.5 + random.random()), MAX_BACKOFF)

    def run(self, what: str, attempt: Callable[[], T]) -> T:
        """`attempt()` until it returns or fails for good; `what` names the operation in messages."""
        started = self._clock()
        tries = 0
        bad_bodies = set()
        while True:
            try:
                return attempt()
            except Transient as err:
                if err.bad_body and err.bad_body in bad_bodies:
                    raise RegistryError(f"{what} failed: {err.reason} (the same check failed when it was "
                                        "fetched again: the registry holds these bytes)", err.status) from None
                if err.bad_body:
                    bad_bodies.add(err.bad_body)
                wait = self.delay(tries, err.retry_after)
                out_of_time = self._clock() - started + wait > self.deadline
                if tries >= self.retries or out_of_time:
                    limit = f"{tries} retries" if not out_of_time else f"{tries} retries and {self.deadline:.0f}s"
                    raise RegistryError(f"{what} failed: {err.reason} (gave up after {limit})",
                                        err.status) from None
                tries += 1
                self.counter.add()
                self.on_retry(f"retrying {what} in {wait:.1f}s ({err.reason}; retry {tries} of {self.retries})")
                self._sleep(wait)
