"""Docker's credential store: config.json (`auths`, `credsStore`, `credHelpers`)
and the `docker-credential-<name>` helper protocol, read and written as docker does.

Credentials never leave this module except inside a Credentials object, whose
repr hides the secret, so a stray print or log line cannot show it.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Mapping, Optional

from ...errors import PykoError
from ..atomic import write_bytes

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
IDENTITY_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)   # OAuth2 refresh token
    registry_token: str = field(default="", repr=False)   # a bearer token sent as is

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)


ANONYMOUS = Credentials()


def config_dir(environ: Optional[Mapping[str, str]] = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def config_key(registry: str) -> str:
    """The key docker uses in config.json for a registry host."""
    return DOCKER_HUB_KEY if registry in ("docker.io", "index.docker.io", "registry-1.docker.io") else registry


def _host_of(key: str) -> str:
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0]


class DockerConfig:
    """One config.json: where credentials for each registry come from."""

    def __init__(self, directory: str):
        self.directory = directory
        self.path = os.path.join(directory, "config.json")
        try:
            with open(self.path, "rb") as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {}
        except (OSError, ValueError) as err:
            raise PykoError(f"cannot read docker config {self.path}: {err}") from None

    def helper_for(self, registry: str) -> str:
        key = config_key(registry)
        helpers = self.data.get("credHelpers") or {}
        return helpers.get(key) or helpers.get(registry) or self.data.get("credsStore") or ""

    def get(self, registry: str) -> Credentials:
        helper = self.helper_for(registry)
        if helper:
            return helper_get(helper, config_key(registry))
        return self._inline(registry)

    def _inline(self, registry: str) -> Credentials:
        auths = self.data.get("auths") or {}
        key = config_key(registry)
        entry = auths.get(key)
        if entry is None:  # docker also matches keys written as URLs
            entry = next((v for k, v in auths.items() if _host_of(k) == _host_of(key)), None)
        if not entry:
            return ANONYMOUS
        username = password = ""
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"]).decode("utf-8")
            except ValueError:
                raise PykoError(f"{self.path}: the auth entry for {registry} is not valid base64") from None
            username, _, password = decoded.partition(":")
        return Credentials(username, password, entry.get("identitytoken", ""), entry.get("registrytoken", ""))

    def store(self, registry: str, creds: Credentials) -> str:
        """Save credentials as docker login does; returns where they went."""
        helper = self.helper_for(registry)
        if helper:
            secret = creds.identity_token or creds.password
            user = IDENTITY_TOKEN_USER if creds.identity_token else creds.username
            _helper(helper, "store", json.dumps({"ServerURL": config_key(registry), "Username": user,
                                                  "Secret": secret}))
            return f"credential helper docker-credential-{helper}"
        auth = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        self.data.setdefault("auths", {})[config_key(registry)] = {"auth": auth}
        self._save()
        return self.path

    def erase(self, registry: str) -> bool:
        """Remove credentials as docker logout does; False if there were none."""
        helper = self.helper_for(registry)
        if helper:
            try:
                _helper(helper, "erase", config_key(registry))
                return True
            except PykoError:
                return False
        auths = self.data.get("auths") or {}
        removed = auths.pop(config_key(registry), None) is not None
        if removed:
            self._save()
        return removed

    def _save(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        write_bytes(self.path, (json.dumps(self.data, indent="\t") + "\n").encode())
        os.chmod(self.path, 0o600)


def _helper(name: str, action: str, stdin: str) -> str:
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run([program, action], input=stdin, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise PykoError(f"credential helper {program} (from the docker config) is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise PykoError(f"credential helper {program} {action} did not answer within 60s") from None
    if proc.returncode != 0:
        # Helpers print their errors on stdout; it never holds a secret on failure.
        raise PykoError(f"credential helper {program} {action} failed: {(proc.stdout or proc.stderr).strip()}")
    return proc.stdout


def helper_get(name: str, server_url: str) -> Credentials:
    try:
        out = _helper(name, "get", server_url)
    except PykoError as err:
        if "credentials not found" in str(err).lower():
            return ANONYMOUS
        raise
    try:
        answer = json.loads(out)
    except ValueError:
        raise PykoError(f"credential helper docker-credential-{name} gave an answer that is not JSON") from None
    username, secret = answer.get("Username", ""), answer.get("Secret", "")
    if username == IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(username, secret)
