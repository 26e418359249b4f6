"""Every child process pyko runs (compilers, git, credential helpers), tracked so
that a SIGTERM or Ctrl-C can stop them before pyko removes their work directory.

`run` is subprocess.run for pyko's needs. `stop_all` terminates what is still
running (SIGTERM, then SIGKILL after a grace period); cli.main calls it from its
signal handlers, then lets the exception unwind, so every `with` block cleans up
after the children are gone, not while they still write into it.
"""
from __future__ import annotations

import subprocess
import threading
import time
from typing import Any, Mapping, Optional, Sequence, Set, Union

_running: Set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


class Stopped(Exception):
    """A child was started after pyko was told to stop."""


def run(args: Sequence[str], *, cwd: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
        input: Union[str, bytes, None] = None, timeout: Optional[float] = None,
        text: bool = False, check: bool = False) -> subprocess.CompletedProcess[Any]:
    """Like subprocess.run(..., capture_output=True), tracked for stop_all()."""
    if _stopping.is_set():
        raise Stopped("pyko is stopping")
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text)
    with _lock:
        _running.add(proc)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        with _lock:
            _running.discard(proc)
    result = subprocess.CompletedProcess(list(args), proc.returncode, out, err)
    if check:
        result.check_returncode()
    return result


def first_error_line(stderr: str, default: str) -> str:
    """The first non-blank line a failed child wrote to stderr, stripped; `default` if it wrote none."""
    return next((line.strip() for line in stderr.splitlines() if line.strip()), default)


def stop_all(grace: float = 5.0) -> None:
    """Terminate every tracked child, and refuse to start new ones."""
    _stopping.set()
    with _lock:
        procs = list(_running)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
