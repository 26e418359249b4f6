"""The image's metadata, resolved once per build: labels, annotations, runtime Env,
working directory, exposed ports, default arguments, user.

Where each setting comes from, most specific first:

  a flag  >  the build's [[builds]] entry  >  the config's top-level defaults

Maps (labels, annotations, imageEnv) merge key by key, the more specific level
winning; lists (exposedPorts, args) and single values replace. An empty value
removes a label or an annotation, including the ones pyko adds by default.

By default, when the source is in a git checkout, every image manifest and
the index get org.opencontainers.image.revision (the commit), .source (the
remote's URL without credentials) and .created (SOURCE_DATE_EPOCH): all three
depend only on the commit and the epoch, so builds stay reproducible.

Values may use the templates of flags and ldflags ({{.Env.X}}, {{.Git.*}}, {{.Date}}).
"""
from __future__ import annotations

import csv
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar

from ..errors import UsageError, clean_text
from ..image.app import ImageSettings, Pairs
from ..image.conventions import NONROOT
from ..util.templates import expand_one
from ..util.timestamps import rfc3339
from ..util.vcs import source_of
from .config import ImageMetadata

REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
CREATED = "org.opencontainers.image.created"

_PORT = re.compile(r"([0-9]{1,5})(?:/(tcp|udp|sctp))?\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")

T = TypeVar("T")


def resolve_image(flags: ImageMetadata, defaults: ImageMetadata, entry: ImageMetadata, source_dir: str,
                  template_env: Mapping[str, str], epoch: int, entrypoint_default: bool = False) -> ImageSettings:
    """One build's image settings; every bad value is one UsageError naming it."""

    def expanded(value: str) -> str:
        return expand_one(value, template_env, source_dir or ".", epoch)

    def layered(key: str, below: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """The map `key` (labels, annotations, env): defaults, then the entry's, then the flags', key by key."""
        out: Dict[str, str] = dict(below or {})
        for level in (defaults, entry, flags):
            out.update(getattr(level, key))
        return out

    def merged(key: str, vcs: Optional[Mapping[str, str]] = None) -> Pairs:
        out = layered(key, vcs)
        return tuple((_checked_key(k, key), expanded(v)) for k, v in sorted(out.items()) if v != "")

    ports = _first(flags.exposed_ports, entry.exposed_ports, defaults.exposed_ports) or ()
    working_dir = _first(flags.working_dir, entry.working_dir, defaults.working_dir) or ""
    user = _first(flags.user, entry.user, defaults.user) or NONROOT
    return ImageSettings(
        user=_plain(user, "the image user"),
        entrypoint=bool(_first(flags.entrypoint, entry.entrypoint, defaults.entrypoint, entrypoint_default)),
        epoch=epoch,
        labels=merged("labels"),
        annotations=merged("annotations", vcs_annotations(source_dir, epoch)),
        env=tuple((_env_name(k), _plain(expanded(v), f"the value of {k}")) for k, v in layered("env").items()),
        working_dir=_working_dir(working_dir),
        exposed_ports=tuple(dict.fromkeys(exposed_port(p) for p in ports)),
        args=tuple(_plain(a, "an argument") for a in (_first(flags.args, entry.args, defaults.args) or ())),
    )


def vcs_annotations(source_dir: str, epoch: int) -> Dict[str, str]:
    """revision, source and created, when `source_dir` is in a git checkout; else {}."""
    found = source_of(source_dir) if source_dir else None
    if found is None:
        return {}
    out = {REVISION: found.revision, CREATED: rfc3339(epoch)}
    if found.url:
        out[SOURCE] = found.url
    return out


def _first(*values: Optional[T]) -> Optional[T]:
    return next((v for v in values if v is not None), None)


def _plain(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise UsageError(f"{what} {clean_text(repr(value), 60)} has control characters; it cannot go in an image")
    return value


def _checked_key(key: str, kind: str) -> str:
    if not key or not key.isprintable() or len(key) > 256:
        raise UsageError(f"{kind}: {clean_text(repr(key), 60)} is not a valid key")
    return key


def _env_name(name: str) -> str:
    if not _ENV_NAME.match(name or ""):
        raise UsageError(f"image env: {clean_text(repr(name), 60)} is not a variable name "
                         "(letters, digits and _ . -, not starting with a digit)")
    return name


def _working_dir(path: str) -> str:
    if path and (not path.startswith("/") or not path.isprintable()):
        raise UsageError(f"working directory {clean_text(repr(path), 60)} must be an absolute path, e.g. /data")
    return path


def exposed_port(text: str) -> str:
    """`8080`, `8080/tcp`, `53/udp` -> `PORT/proto` as the image config spells it."""
    match = _PORT.match(str(text).strip().lower())
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise UsageError(f"exposed port {clean_text(repr(text), 40)} must look like 8080 or 8080/tcp "
                         "(1-65535; tcp, udp or sctp)")
    return f"{int(match.group(1))}/{match.group(2) or 'tcp'}"


def comma_separated(values: Sequence[str]) -> Tuple[str, ...]:
    """Repeated flag values, each split on commas as ko's (pflag's) string lists are: as one CSV
    record, so a "quoted, value" keeps its comma."""
    out: List[str] = []
    for value in values:
        try:
            out += next(csv.reader([value], skipinitialspace=False), [])
        except csv.Error:
            raise UsageError(f"{clean_text(repr(value), 60)} is not a comma-separated list") from None
    return tuple(out)


def key_values(values: Sequence[str], flag: str) -> Pairs:
    """`k=v` flag values as pairs (an empty value is kept: it removes the key)."""
    out = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {clean_text(repr(value), 60)} must look like key=value")
        out.append((key, val))
    return tuple(out)
