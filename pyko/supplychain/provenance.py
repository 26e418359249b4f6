"""SLSA provenance v1 (https://slsa.dev/provenance/v1) for the images pyko builds.

buildType https://pyko.dev/buildtypes/image/v1. externalParameters are what
the user chose: the source (its directory within the repository, else the
directory's name: never this machine's path, never relative to where pyko ran),
the platforms, the base, the image name and tags, and per binary everything that
reached the compiler: the flags and ldflags after templates, what pyko itself
adds (-trimpath, CGO_ENABLED=0, the target triple, +crt-static), the build
settings taken from the environment (GOFLAGS, GOAMD64 and its kin, RUSTFLAGS;
CARGO_* by name only, as their values may be tokens), and the names (not values)
of the build's env entries.

resolvedDependencies: the source (a valid URI: git+<remote>@<commit>, or the
commit alone without a remote); a checkout that differs from its commit is
never presented as that commit: its entry is marked dirty, names the commit it
started from and carries the digest of the uncommitted changes instead. Then
the base by digest, each toolchain and its version, and the lock files (go.sum,
Cargo.lock) by digest. The builder is the CI workflow when pyko runs in GitHub
Actions or GitLab CI, else `urn:pyko:builder:local`, with pyko's version.
startedOn and finishedOn are SOURCE_DATE_EPOCH when it is set, so two builds of
one commit give identical provenance; else the real times.
"""
from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import __version__
from ..inventory import Recipe
from ..reference import without_tag
from ..util.jsontypes import JsonObject
from ..util.timestamps import rfc3339
from ..util.vcs import Source, source_of

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://pyko.dev/buildtypes/image/v1"
LOCAL_BUILDER = "urn:pyko:builder:local"


@dataclass(frozen=True)
class BuildFacts:
    """What one image's build was, for its provenance."""

    source_dir: str
    name: str
    tags: Tuple[str, ...]
    base: str                                   # as asked
    base_identity: Tuple[str, str]              # (name, digest) of the base this image (or index) is on
    platforms: Tuple[str, ...]
    binaries: Tuple[Tuple[str, Recipe], ...]    # (binary name, how its toolchain made it)
    started: float                              # wall clock, used when SOURCE_DATE_EPOCH is unset
    finished: float
    compression: Mapping[str, object] = field(default_factory=dict)   # the deflater: library, version, level


def builder(environ: Mapping[str, str]) -> Tuple[str, str]:
    """(builder id, invocation id) from the CI environment, else the local builder."""
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_WORKFLOW_REF"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        run = (f"{server}/{environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{environ.get('GITHUB_RUN_ID', '')}"
               f"/attempts/{environ.get('GITHUB_RUN_ATTEMPT', '1')}")
        return f"{server}/{environ['GITHUB_WORKFLOW_REF']}", run
    if environ.get("GITLAB_CI") == "true" and environ.get("CI_SERVER_URL"):
        runner = (f"{environ['CI_SERVER_URL']}/{environ.get('CI_PROJECT_PATH', '')}/-/runners/"
                  f"{environ.get('CI_RUNNER_ID', '')}")
        return runner, environ.get("CI_JOB_URL", "")
    return LOCAL_BUILDER, ""


def source_parameter(path: str) -> str:
    """The source as the user's repository names it, whatever directory pyko ran from: its path
    within the git checkout, else the directory's own name."""
    if not path:
        return ""
    found = source_of(os.path.abspath(path))
    return found.path if found is not None else os.path.basename(os.path.abspath(path))


def git_uri(remote: str, commit: str = "") -> str:
    """An SPDX/SLSA-style VCS URI (git+<url>[@<commit>]) that is a valid URI for every form of
    git remote: URL, scp-like `user@host:path`, or a local path."""
    at = f"@{commit}" if commit else ""
    if "://" in remote:
        return f"git+{remote}{at}"
    scp = re.fullmatch(r"(?:([^@/]+)@)?([^:/]+):(.+)", remote)
    if scp and not os.path.isabs(remote):
        user = f"{scp.group(1)}@" if scp.group(1) else ""
        return f"git+ssh://{user}{scp.group(2)}/{urllib.parse.quote(scp.group(3).lstrip('/'))}{at}"
    return f"git+file://{urllib.parse.quote(os.path.abspath(remote))}{at}"


def _source_dependency(found: Source) -> JsonObject:
    """The source entry: the commit when the checkout is it; when it is not, the commit it started
    from and the digest of what differs, so it cannot be taken for the clean commit."""
    if not found.changes:
        entry = {"name": "source", "digest": {"gitCommit": found.revision}}
        if found.url:
            entry["uri"] = git_uri(found.url, found.revision)
        return entry
    algorithm, _, hex_digest = found.changes.partition(":")
    entry = {"name": "source", "digest": {algorithm: hex_digest},
             "annotations": {"dirty": True, "headCommit": found.revision,
                             "note": "the working tree differs from headCommit; the digest is of the "
                                     "uncommitted changes (git diff --binary HEAD and untracked files)"}}
    if found.url:
        entry["uri"] = git_uri(found.url)
    return entry


def _dependencies(facts: BuildFacts) -> List[JsonObject]:
    out: List[JsonObject] = []
    found = source_of(os.path.abspath(facts.source_dir)) if facts.source_dir else None
    if found is not None:
        out.append(_source_dependency(found))
    base_name, base_digest = facts.base_identity
    algorithm, _, hex_digest = base_digest.partition(":")
    out.append({"name": "base", "uri": _oci_uri(base_name), "digest": {algorithm: hex_digest}})
    seen = set()
    for _, recipe in facts.binaries:
        key = (recipe.toolchain, recipe.version)
        if recipe.toolchain and key not in seen:
            seen.add(key)
            out.append({"name": recipe.toolchain, "uri": f"pkg:generic/{recipe.toolchain}",
                        "annotations": {"version": recipe.version or "unknown"}})
    locks = {(lock.name, lock.sha256) for _, recipe in facts.binaries for lock in recipe.lockfiles}
    for name, sha256 in sorted(locks):
        out.append({"name": name, "digest": {"sha256": sha256}})
    return out


def _oci_uri(name: str) -> str:
    if "://" in name:
        return name                             # pyko://static
    repository = without_tag(name)
    return f"pkg:oci/{repository.rsplit('/', 1)[-1]}?repository_url={urllib.parse.quote(repository, safe='')}"


def predicate(facts: BuildFacts, environ: Mapping[str, str], epoch: Optional[int]) -> Dict[str, object]:
    """The provenance predicate. `epoch` is SOURCE_DATE_EPOCH, or None when it is not set."""
    builder_id, invocation = builder(environ)
    started = rfc3339(epoch if epoch is not None else int(facts.started))
    finished = rfc3339(epoch if epoch is not None else int(facts.finished))
    metadata = {"startedOn": started, "finishedOn": finished}
    if invocation:
        metadata = {"invocationId": invocation, **metadata}
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "source": source_parameter(facts.source_dir),
                "name": facts.name,
                "tags": list(facts.tags),
                "base": facts.base,
                "platforms": list(facts.platforms),
                "binaries": [{"name": name, **recipe.details()} for name, recipe in facts.binaries],
            },
            "internalParameters": {"pyko": __version__, "sourceDateEpoch": epoch,
                                   **({"compression": dict(facts.compression)} if facts.compression else {})},
            "resolvedDependencies": _dependencies(facts),
        },
        "runDetails": {"builder": {"id": builder_id, "version": {"pyko": __version__}}, "metadata": metadata},
    }


def epoch_if_set(environ: Mapping[str, str], epoch: int) -> Optional[int]:
    return epoch if environ.get("SOURCE_DATE_EPOCH", "").strip() else None


def platforms_of(images: Sequence[Any]) -> Tuple[str, ...]:
    return tuple(str(image.platform) for image in images)
