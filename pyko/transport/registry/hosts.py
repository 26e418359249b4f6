"""One client per registry host, with credentials from docker's config."""
from __future__ import annotations

import threading
from typing import Dict, Optional

from ...util.progress import Reporter
from .client import Registry
from .credentials import DockerConfig, config_dir
from .http import TransportOptions
from .retry import RetryCounter


class Registries:
    """Clients by host; they share one retry counter and one reporter (retry lines, byte progress)."""

    def __init__(self, transport: TransportOptions, reporter: Optional[Reporter] = None):
        self.transport = transport
        self.docker_config = DockerConfig(config_dir(transport.environ))
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
