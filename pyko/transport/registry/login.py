"""`pyko login` / `pyko logout`: check credentials against the registry, then
save or erase them exactly where docker would (credential helper or config.json)."""
from __future__ import annotations

from typing import Mapping

from ...errors import RegistryError, UsageError
from ...reference import Reference
from .client import Registry, TransportOptions
from .credentials import Credentials, DockerConfig, config_dir


def _host(registry: str) -> str:
    text = registry.split("://", 1)[-1].rstrip("/")
    if not text or "/" in text:
        raise UsageError(f"{registry!r} is not a registry host (e.g. ghcr.io or localhost:5000)")
    return Reference.parse(f"{text}/x").registry


def login(registry: str, username: str, password: str, transport: TransportOptions) -> str:
    host = _host(registry)
    creds = Credentials(username, password)
    client = Registry(host, creds, transport)
    client.connect()
    if client.auth.challenge is not None:
        # Basic: the registry itself judges; Bearer: the token service does (no scope needed).
        resp = client.policy.run(f"logging in to {host}", lambda: client.request("GET", "/v2/", []))
        resp.close()
        if resp.status_code == 401:
            raise RegistryError(f"login to {host} failed: wrong username or password", 401)
        client.check(resp, "login", "", [200])
    return DockerConfig(config_dir(transport.environ)).store(host, creds)


def logout(registry: str, environ: Mapping[str, str]) -> bool:
    return DockerConfig(config_dir(environ)).erase(_host(registry))
