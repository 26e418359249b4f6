"""Docker's credential store: config.json (`auths`, `credsStore`, `credHelpers`)
and the `docker-credential-<name>` helper protocol, read and written as docker does.

Credentials never leave this module except inside a Credentials object, whose
repr hides the secret, so a stray print or log line cannot show it.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from typing import Mapping

from ...errors import PykoError, clean_text
from ...reference import DOCKER_HUB, DOCKER_HUB_ALIASES
from ...util import children
from ...util.atomic import write_bytes

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
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


def config_dir(environ: Mapping[str, str]) -> str:
    return environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def config_key(registry: str) -> str:
    """The key docker uses in config.json for a registry host."""
    return DOCKER_HUB_KEY if registry == DOCKER_HUB or registry in DOCKER_HUB_ALIASES else registry


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
                self.data = json.loads(f.read(4 << 20))
        except FileNotFoundError:
            self.data = {}
        except (OSError, ValueError, RecursionError) as err:
            raise PykoError(f"cannot read docker config {self.path}: {clean_text(err, 120)}") from None
        for key, kind in (("auths", dict), ("credHelpers", dict), ("credsStore", str)):
            if not isinstance(self.data, dict) or not isinstance(self.data.get(key, kind()), kind):
                raise PykoError(f"docker config {self.path}: {key} must be a JSON {kind.__name__}")

    def helper_for(self, registry: str) -> str:
        key = config_key(registry)
        helpers = self.data.get("credHelpers") or {}
        name = helpers.get(key) or helpers.get(registry) or self.data.get("credsStore") or ""
        if name and (not isinstance(name, str) or not _HELPER_NAME.fullmatch(name)):
            raise PykoError(f"docker config {self.path}: {clean_text(repr(name), 60)} is not a credential "
                            "helper name (docker-credential-NAME, NAME of letters, digits, '.', '_', '-')")
        return name

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
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f, ""), str) for f in (
                "auth", "identitytoken", "registrytoken")):
            raise PykoError(f"docker config {self.path}: the entry for {registry} is not an object of strings")
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
        # Born 0600 (never widened, then narrowed): it holds credentials.
        write_bytes(self.path, (json.dumps(self.data, indent="\t") + "\n").encode(), mode=0o600)


class HelperNotFound(PykoError):
    """The helper has no credentials for that server (docker's "credentials not found")."""


def _helper(name: str, action: str, stdin: str) -> str:
    """Run docker-credential-NAME ACTION. Its stdout may hold a secret, so a failure
    shows only the exit status and the first line of stderr, never stdout."""
    program = f"docker-credential-{name}"
    try:
        proc = children.run([program, action], input=stdin.encode(), timeout=60)
    except FileNotFoundError:
        raise PykoError(f"credential helper {program} (from the docker config) is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise PykoError(f"credential helper {program} {action} did not answer within 60s") from None
    except OSError as err:
        raise PykoError(f"credential helper {program} cannot run: {err.strerror}") from None
    if proc.returncode != 0:
        said = (proc.stdout + b"\n" + proc.stderr).decode("utf-8", "replace").lower()
        if action == "get" and "credentials not found" in said:
            raise HelperNotFound(f"{program} has no credentials for that registry")
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        detail = f": {clean_text(first[0], 200)}" if first else ""
        raise PykoError(f"credential helper {program} {action} failed (exit status {proc.returncode}){detail}")
    try:
        return bytes(proc.stdout).decode("utf-8")
    except UnicodeDecodeError:
        raise PykoError(f"credential helper {program} {action} answered with bytes that are not UTF-8") from None


def helper_get(name: str, server_url: str) -> Credentials:
    try:
        out = _helper(name, "get", server_url)
    except HelperNotFound:
        return ANONYMOUS
    try:
        answer = json.loads(out)
    except (ValueError, RecursionError):
        answer = None
    username, secret = (answer.get("Username", ""), answer.get("Secret", "")) if isinstance(answer, dict) else (0, 0)
    if not isinstance(username, str) or not isinstance(secret, str):
        raise PykoError(f"credential helper docker-credential-{name} gave an answer that is not "
                        "a JSON object with Username and Secret")
    if username == IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(username, secret)
