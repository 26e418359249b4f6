"""--cache-from / --cache-to: Go's build cache read from and saved to a registry around one build.

Before compiling, the artifact at --cache-from fills a directory that pyko's GOCACHEPROG server
(toolchains/gocacheprog.py) serves to every `go build` of the run; after a build that succeeded,
what the build used and added is saved to --cache-to (transport/go_cache.py). Nothing about the
cache can fail a build: an unreachable, missing, foreign or malformed cache is a warning and a
cold compile, and a failed save is a warning after the images are out.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional

from ..errors import PykoError
from ..plan.resolve import GoCacheSettings
from ..toolchains.go import cacheprog_environment
from ..transport import go_cache
from ..transport.registry.hosts import Registries
from ..transport.registry.repository import Repository
from ..util.progress import Reporter


@dataclass
class GoCacheRun:
    settings: GoCacheSettings
    root: str
    go_version: str
    environ: Dict[str, str] = field(default_factory=dict)     # what `go` needs to use the server
    pulled: go_cache.PulledCache = field(default_factory=go_cache.PulledCache)


def open_cache(settings: GoCacheSettings, registries: Registries, environ, workdir: str, jobs: int,
               reporter: Reporter) -> Optional[GoCacheRun]:
    """The cache this build compiles with, filled from --cache-from; None when it has none."""
    if not (settings.cache_from or settings.cache_to):
        return None
    root = os.path.join(workdir, "gocache")
    os.makedirs(root, exist_ok=True)
    try:
        variables, version, reason = cacheprog_environment(environ, root)
    except PykoError as err:   # no Go at all: the build says so itself, if it needs Go
        reporter.info(f"warning: go cache not used: {err}")
        return None
    if reason:
        reporter.info(f"warning: {reason}")
        return None
    run = GoCacheRun(settings, root, version, variables)
    if settings.cache_from:
        ref = settings.cache_from
        try:
            run.pulled, line = go_cache.pull(Repository(registries(ref.registry), ref.repository), ref.identifier,
                                             root, version, os.path.join(workdir, "gocache-layers"), jobs)
            reporter.info(line)
        except PykoError as err:
            reporter.info(f"warning: go cache from {ref} not used ({err}); compiling without it")
    return run


def save_cache(run: Optional[GoCacheRun], registries: Registries, workdir: str, reporter: Reporter) -> None:
    if run is None or run.settings.cache_to is None:
        return
    ref = run.settings.cache_to
    try:
        line = go_cache.save(Repository(registries(ref.registry), ref.repository), ref.identifier, run.root,
                             run.go_version, run.pulled, os.path.join(workdir, "gocache-save"),
                             same_repository=run.settings.cache_from is not None
                             and run.settings.cache_from.name == ref.name)
        reporter.info(line)
    except PykoError as err:
        reporter.info(f"warning: go cache not saved to {ref}: {err}")
