"""Prebuilt binaries: `--binary linux/amd64=./out/app-amd64`, from any toolchain (C with cc -static, ...)."""
from __future__ import annotations

import os
from typing import Mapping

from ..errors import UsageError
from ..platforms import Platform
from . import BuildTask, Target


def prebuilt_target(name: str, binaries: Mapping[Platform, str], source_dir: str = "") -> Target:
    """A target whose 'build' is a file that already exists; kodata/ beside the
    first binary's directory is not guessed: only `source_dir`/kodata is used."""
    tasks = {}
    for platform, path in binaries.items():
        if not os.path.isfile(path):
            raise UsageError(f"--binary {platform}={path}: no such file")
        absolute = os.path.abspath(path)
        tasks[platform] = BuildTask(("prebuilt", absolute), f"{name} {platform}", platform,
                                    lambda p=absolute: p)
    kodata = os.path.join(source_dir, "kodata") if source_dir else ""
    return Target(name, source_dir or os.getcwd(), tasks, kodata if kodata and os.path.isdir(kodata) else None)
