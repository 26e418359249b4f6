"""Prebuilt binaries: `--binary linux/amd64=./out/app-amd64`, from any toolchain (C with cc -static, ...)."""
from __future__ import annotations

import functools
import os
from typing import Iterable, Mapping, Sequence

from ..errors import UsageError
from ..platforms import Platform
from . import BuildContext, BuildTask, Source, Target


def prebuilt_target(build: Source) -> Target:
    """A target whose 'build' is a file that already exists. kodata/ beside the first
    binary's directory is not guessed: only the [[builds]] entry's directory counts."""
    tasks = {}
    for platform, path in build.binaries.items():
        if not os.path.isfile(path):
            raise UsageError(f"--binary {platform}={path}: no such file")
        absolute = os.path.abspath(path)
        tasks[platform] = BuildTask(("prebuilt", absolute), f"{build.name} {platform}", platform,
                                    functools.partial(str, absolute))
    return Target(build.name, build.path, tasks)


class PrebuiltDriver:
    """Files given per platform (--binary, or `binaries` in [[builds]])."""

    def claims(self, build: Source) -> bool:
        return build.prebuilt

    def target(self, build: Source, platforms: Iterable[Platform], context: BuildContext,
               state: object = None) -> Target:
        return prebuilt_target(build)

    def prepare_run(self, sources: Sequence[Source], environ: Mapping[str, str], cache_dir: str) -> object:
        return None   # nothing to ask ahead

    def summary(self, state: object) -> str:
        return ""
