"""Image references (`[registry/]path[:tag][@digest]`), names and tags, as docker parses them."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Sequence

from .errors import UsageError, clean_text
from .image.digest import is_digest

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_BAD_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*\Z")
_DOMAIN = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?\Z")

DOCKER_HUB = "docker.io"
#: Other names of Docker Hub, and the host its API really answers on.
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")
DOCKER_HUB_API = "registry-1.docker.io"


def sanitized_name(text: str) -> str:
    """`text` made a valid repository path (lowercase; other characters become '-'),
    component by component: an import path keeps its slashes."""
    parts = [_BAD_NAME_CHARS.sub("-", part.lower()).strip("._-") for part in text.split("/")]
    return "/".join(p for p in parts if p) or "app"


_NAME = re.compile(rf"^{_COMPONENT}\Z")


def check_image_name(name: str, source: str = "--name", path: bool = False) -> str:
    """An image name is one repository path component (or, with `path`, several, for -P):
    it also names a file pyko writes and, as one component, the binary (/ko-app/NAME),
    so never `..`, never a newline."""
    pattern = _PATH if path else _NAME
    if not isinstance(name, str) or not pattern.match(name) or len(name) > 200:
        raise UsageError(f"{source} {clean_text(repr(name), 80)} is not a valid image name: use lowercase "
                         "letters and digits, with '.', '_' or '-' between them (it also names the binary "
                         "/ko-app/NAME)")
    return name


def without_tag(reference: str) -> str:
    """A reference as written, minus its @digest and :tag (no normalisation): the repository part."""
    repository = reference.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository[:repository.rindex(":")]
    return repository


def shown_tag(tags: Sequence[str]) -> str:
    """ko's rule: the printed reference names the tag when exactly one was given and it is not latest."""
    return tags[0] if len(tags) == 1 and tags[0] != "latest" else ""


def check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG.match(tag) or "\n" in tag:
        raise UsageError(f"invalid tag {clean_text(repr(tag), 80)}: use up to 128 letters, digits, '_', '.' or '-', "
                         "not starting with '.' or '-'")
    return tag


def _has_domain(first: str) -> bool:
    return first == "localhost" or "." in first or ":" in first or first != first.lower()


def normalized(name: str) -> str:
    """docker's full form: `hello` -> `docker.io/library/hello`, `me/app` -> `docker.io/me/app`."""
    first, sep, _ = name.partition("/")
    if sep and _has_domain(first):
        return name
    return f"docker.io/{name}" if sep else f"docker.io/library/{name}"


@dataclass(frozen=True)
class Reference:
    registry: str               # host[:port] as written ("docker.io" for Docker Hub)
    repository: str             # path within the registry ("library/alpine")
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> "Reference":
        original = text
        text = text.strip()
        digest = ""
        if "@" in text:
            text, digest = text.split("@", 1)
            if not is_digest(digest):
                raise UsageError(f"invalid image reference {original!r}: bad digest {digest!r}")
        tag = ""
        last = text.rsplit("/", 1)[-1]
        if ":" in last:
            text, tag = text.rsplit(":", 1)
            check_tag(tag)
        first, sep, rest = text.partition("/")
        if sep and _has_domain(first):
            registry, path = first, rest
            if not _DOMAIN.match(registry):
                raise UsageError(f"invalid image reference {original!r}: bad registry {registry!r}")
        else:
            registry, path = DOCKER_HUB, text
        if registry in DOCKER_HUB_ALIASES:
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if not _PATH.match(path or "-"):
            why = "repository names must be lowercase" if path != path.lower() else \
                "use lowercase letters, digits and . _ - separated by /"
            raise UsageError(f"invalid image reference {original!r}: {why}")
        if len(path) > 255:
            raise UsageError(f"invalid image reference {original!r}: the name is over 255 characters")
        return cls(registry, path, tag, digest)

    @property
    def name(self) -> str:
        """registry/repository, with no tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What goes after /manifests/: the digest if there is one, else the tag (default latest)."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> "Reference":
        return Reference(self.registry, self.repository, tag, "")

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def is_loopback(registry: str) -> bool:
    """Is the registry on this machine (localhost, 127.0.0.0/8, ::1), where plain HTTP is allowed?"""
    host = registry
    if host.startswith("["):
        host = host[1:host.index("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def registry_of(repo: str) -> str:
    """The registry host of a repository such as `reg.io/team` (docker.io for `team`)."""
    return Reference.parse(repo.rstrip("/") + "/x").registry


def repository_under(repo: str, name: str, bare: bool) -> Reference:
    """Where an image goes: `<repo>/<name>`, or `<repo>` itself with --bare."""
    text = repo.rstrip("/") if bare else f"{repo.rstrip('/')}/{name}"
    ref = Reference.parse(text)
    if ref.tag or ref.digest:
        raise UsageError(f"the repository {repo!r} must not carry a tag or digest")
    return ref
