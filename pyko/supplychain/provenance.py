"""SLSA provenance v1 (https://slsa.dev/provenance/v1) for the images pyko builds.

buildType https://pyko.dev/buildtypes/image/v1. externalParameters are what
the user chose: the source path (relative, never this machine's absolute
path), the platforms, the base, the image name and tags, and per binary the
flags and ldflags after templates and the names (not values) of the build's
env entries. resolvedDependencies: the git source and commit when there is
one, the base by digest, each toolchain and its version. The builder is the
CI workflow when pyko runs in GitHub Actions or GitLab CI, else
`urn:pyko:builder:local`. startedOn and finishedOn are SOURCE_DATE_EPOCH when
it is set, so two builds of one commit give identical provenance; else the
real times.
"""
from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .. import __version__
from ..reference import without_tag
from ..util.timestamps import rfc3339
from ..util.vcs import source_of

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
    binaries: Tuple[Tuple[str, Mapping[str, object]], ...]   # (binary name, toolchain facts)
    started: float                              # wall clock, used when SOURCE_DATE_EPOCH is unset
    finished: float


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


def _relative(path: str) -> str:
    if not path:
        return ""
    relative = os.path.relpath(path, os.getcwd())
    return os.path.basename(os.path.abspath(path)) if relative.startswith("..") else relative


def _dependencies(facts: BuildFacts) -> List[dict]:
    out: List[dict] = []
    found = source_of(facts.source_dir) if facts.source_dir else None
    if found is not None:
        out.append({"uri": f"git+{found.url}" if found.url else "git", "digest": {"gitCommit": found.revision}})
    base_name, base_digest = facts.base_identity
    algorithm, _, hex_digest = base_digest.partition(":")
    out.append({"name": "base", "uri": _oci_uri(base_name), "digest": {algorithm: hex_digest}})
    seen = set()
    for _, toolchain in facts.binaries:
        tool = toolchain.get("toolchain") or {}
        key = (tool.get("name"), tool.get("version"))
        if tool and key not in seen:
            seen.add(key)
            out.append({"name": str(tool.get("name")), "uri": f"pkg:generic/{tool.get('name')}",
                        "annotations": {"version": str(tool.get("version") or "unknown")}})
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
                "source": _relative(facts.source_dir),
                "name": facts.name,
                "tags": list(facts.tags),
                "base": facts.base,
                "platforms": list(facts.platforms),
                "binaries": [{"name": name, **{k: v for k, v in info.items() if k != "toolchain"}}
                             for name, info in facts.binaries],
            },
            "internalParameters": {"pyko": __version__, "sourceDateEpoch": epoch},
            "resolvedDependencies": _dependencies(facts),
        },
        "runDetails": {"builder": {"id": builder_id}, "metadata": metadata},
    }


def epoch_if_set(environ: Mapping[str, str], epoch: int) -> Optional[int]:
    return epoch if environ.get("SOURCE_DATE_EPOCH", "").strip() else None


def platforms_of(images: Sequence) -> Tuple[str, ...]:
    return tuple(str(image.platform) for image in images)
