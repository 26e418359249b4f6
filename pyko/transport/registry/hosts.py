"""One client per registry host, with credentials from docker's config."""
from __future__ import annotations

import threading
from typing import Dict, Mapping

from ...errors import UsageError
from .client import Registry
from .credentials import DockerConfig, config_dir
from .http import TransportOptions
from .retry import RetryCounter


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a number") from None
    if value < 0:
        raise UsageError(f"{name} must not be negative")
    return value


class Registries:
    """Clients by host; they share one retry counter and one reporter (retry lines, byte progress)."""

    def __init__(self, environ: Mapping[str, str], insecure: bool = False, ca_file: str = "", jobs: int = 4,
                 timeout: float = 0, reporter=None):
        self.transport = TransportOptions(
            insecure=insecure, ca_file=ca_file, retries=int(_number(environ, "PYKO_REGISTRY_RETRIES", 8)),
            backoff=_number(environ, "PYKO_REGISTRY_BACKOFF", 0.5),
            deadline=timeout or _number(environ, "PYKO_REGISTRY_TIMEOUT", 300), pool=max(8, jobs + 4),
            environ=environ)
        self.docker_config = DockerConfig(config_dir(environ))
        self.counter = RetryCounter()
        self.reporter = reporter
        self._clients: Dict[str, Registry] = {}
        self._lock = threading.Lock()

    def __call__(self, host: str) -> Registry:
        with self._lock:
            if host not in self._clients:
                self._clients[host] = Registry(host, self.docker_config.get(host), self.transport,
                                               self.reporter, self.counter)
            return self._clients[host]

    @property
    def retries(self) -> int:
        return self.counter.count
