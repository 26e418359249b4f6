"""Go main packages of one run compiled together: one `go build -o DIR/ pkg...` per platform.

Go's build cache has no cross-process locking of actions, so separate `go build`s running at
once each compile the packages they share (the standard library, the module's internal
packages). One invocation for every main package of a module that is built with the same
toolchain, environment, flags and ldflags compiles each shared package once. The binaries are
byte-identical to separate builds (tests/e2e/test_go_groups.py compares them): with -trimpath
nothing in a binary depends on how many packages the invocation built.

Group builds run one at a time (each `go build` already compiles on every core): measured here,
two platforms' groups one after the other took 47.9 s where the two at once took 53.3 s.

Packages whose settings differ are in different groups, never merged; a package whose binary
name Go would give another member too (cmd/a/server and cmd/b/server) is built on its own. A
group of one is built exactly as before (go.py's single build, in its own package directory).
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Hashable, List, Mapping, Optional, Sequence

from ..errors import BuildError

#: Runs go: (args, cwd, env) -> its finished process, output as text.
RunGo = Callable[[Sequence[str], str, Mapping[str, str]], "subprocess.CompletedProcess[str]"]

_MAJOR_VERSION = re.compile(r"v[0-9]+\Z")


def go_output_name(import_path: str) -> str:
    """The file `go build -o DIR/` writes for a main package: its last element, or the one before
    a major-version suffix (example.com/tool/v2 -> tool)."""
    parts = import_path.rstrip("/").split("/")
    if len(parts) > 1 and _MAJOR_VERSION.match(parts[-1]):
        return parts[-2]
    return parts[-1]


@dataclass
class _Member:
    import_path: str
    label: str                          # the image's binary, for messages
    alone: Callable[[], str]            # how it is built on its own (go.py's single build)


@dataclass
class _Group:
    """Packages of one module with one toolchain, environment, flags, ldflags and platform."""

    run_go: RunGo
    one_at_a_time: threading.Lock
    module_dir: str
    env: Mapping[str, str]
    flags: Sequence[str]
    ldflags: Sequence[str]
    outdir: str
    platform: str
    members: Dict[str, _Member] = field(default_factory=dict)   # by Go's output name
    lock: threading.Lock = field(default_factory=threading.Lock)
    built: bool = False
    error: Optional[BuildError] = None

    def binary(self, name: str) -> str:
        if len(self.members) == 1:
            return self.members[name].alone()
        with self.lock:
            if not self.built and self.error is None:
                with self.one_at_a_time:
                    self._build()
        if self.error is not None:
            raise self.error
        return os.path.join(self.outdir, name)

    def _build(self) -> None:
        paths = sorted(m.import_path for m in self.members.values())
        args = ["build", "-trimpath", "-o", self.outdir + os.sep, *self.flags]
        if self.ldflags:
            args.append("-ldflags=" + " ".join(self.ldflags))
        os.makedirs(self.outdir, exist_ok=True)
        os.makedirs(self.env["GOTMPDIR"], exist_ok=True)
        proc = self.run_go([*args, "--", *paths], self.module_dir, self.env)
        if proc.returncode != 0:
            names = ", ".join(sorted(m.label for m in self.members.values()))
            self.error = BuildError(f"go build failed for {names} ({self.platform}, built together; exit "
                                    f"{proc.returncode}); the compiler's output is above",
                                    details=proc.stderr + proc.stdout)
            return
        self.built = True


class GoGroups:
    """Every Go build of one run, grouped; shared by all images' targets (the Go driver's GoRun)."""

    def __init__(self, cache_dir: str):
        self.cache_dir = cache_dir
        self._groups: Dict[Hashable, _Group] = {}
        self._one_at_a_time = threading.Lock()

    def runner(self, run_go: RunGo, module_dir: str, import_path: str, label: str, platform: str,
               env: Mapping[str, str], flags: Sequence[str], ldflags: Sequence[str],
               alone: Callable[[], str], toolchain: str) -> Callable[[], str]:
        """The task that makes this package's binary for one platform: through its group."""
        if not module_dir or not import_path:
            return alone
        key = (toolchain, module_dir, tuple(sorted(env.items())), tuple(flags), tuple(ldflags))
        group = self._groups.get(key)
        if group is None:
            # Kept between runs, as single builds' are: go build sees an up-to-date binary and skips linking.
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
            group = _Group(run_go, self._one_at_a_time, module_dir, dict(env), tuple(flags), tuple(ldflags),
                           os.path.join(self.cache_dir, "go-out", "groups", digest), platform)
            self._groups[key] = group
        name = go_output_name(import_path)
        taken = group.members.get(name)
        if taken is not None and taken.import_path != import_path:
            return alone   # Go would write both to one file name: this one is built on its own
        group.members.setdefault(name, _Member(import_path, label, alone))
        return lambda: group.binary(name)

    def sizes(self) -> List[int]:
        """How many packages each group compiles at once (for the progress line)."""
        return [len(g.members) for g in self._groups.values()]
