"""The retry policy, target checks and transfer progress, on fakes (fast)."""

import pytest

from pyko.errors import RegistryError
from pyko.transport.registry.retry import MAX_RETRY_AFTER, RetryPolicy, Transient, parse_retry_after


def _policy(retries=3, deadline=300.0):
    slept, lines = [], []
    # A fake clock that moves only when the policy sleeps.
    return RetryPolicy(retries, 0.5, deadline, lines.append, sleep=slept.append,
                       clock=lambda: sum(slept)), slept, lines


def test_transients_are_retried_with_growing_backoff_then_given_up():
    policy, slept, lines = _policy()
    calls = []

    def attempt():
        calls.append(1)
        raise Transient("the registry answered 503", 503)
    with pytest.raises(RegistryError, match=r"pushing x failed: the registry answered 503 \(gave up after 3 retries\)"):
        policy.run("pushing x", attempt)
    assert len(calls) == 4 and len(slept) == 3 and policy.counter.count == 3
    assert 0.25 <= slept[0] <= 0.75 and 1.0 <= slept[2] <= 3.0  # 0.5 * 2^n, jittered by 0.5x-1.5x
    assert lines[0].startswith("retrying pushing x in ")
    assert lines[0].endswith("(the registry answered 503; retry 1 of 3)")


def test_retry_after_is_honoured_and_capped():
    policy, slept, _ = _policy()
    answers = iter([Transient("rate limited 429", 429, 2.0), Transient("rate limited 429", 429, 86400.0)])

    def attempt():
        err = next(answers, None)
        if err:
            raise err
        return "ok"
    assert policy.run("x", attempt) == "ok"
    assert slept == [2.0, MAX_RETRY_AFTER]
    assert parse_retry_after("7") == 7.0 and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now


def test_other_errors_are_never_retried():
    policy, slept, _ = _policy()
    with pytest.raises(RegistryError, match="denied"):
        policy.run("x", lambda: (_ for _ in ()).throw(RegistryError("denied", 403)))
    assert slept == []


def test_deadline_bounds_the_retrying():
    policy, slept, _ = _policy(retries=100, deadline=2.0)

    def attempt():
        raise Transient("connection reset", retry_after=1.5)
    with pytest.raises(RegistryError, match="gave up after 1 retries and 2s"):
        policy.run("x", attempt)
    assert slept == [1.5]  # a second wait of 1.5s would pass the 2s deadline


