"""Configuration: a TOML file with ko's key names, ko's own .ko.yaml, and environment overrides.

pyko's file, first match wins:
  $PYKO_CONFIG (a file, or a directory holding .pyko.toml)
  ./.pyko.toml
  ./pyproject.toml, table [tool.pyko]
ko's .ko.yaml fills in what this file does not set, and the environment overrides both
(loading.py combines the three).

The result is a frozen dataclass; nothing else in pyko reads TOML or env vars
for these settings.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Mapping, NoReturn, Optional, Set, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

from ..errors import ConfigError, UsageError
from ..image.static_base import REFERENCE as BUILTIN_BASE
from ..reference import without_tag
from ..supplychain.policy import BasePolicy, policy_from
from ..util.files import read_capped
from ..util.jsontypes import Table


@dataclass(frozen=True)
class ImageMetadata:
    """The image's metadata as one level gives it: the config's top level (defaults), a [[builds]]
    entry, or the command line (the most specific). The plan layers the three into the image's
    ImageSettings. None means "not set here" (so a less specific level applies); an empty list or ""
    is a value; the maps merge key by key.
    """

    labels: Mapping[str, str] = field(default_factory=dict)         # config Labels
    annotations: Mapping[str, str] = field(default_factory=dict)    # manifest and index annotations
    env: Mapping[str, str] = field(default_factory=dict)            # `imageEnv`: the runtime Env
    working_dir: Optional[str] = None                               # `workingDir`
    exposed_ports: Optional[Tuple[str, ...]] = None                 # `exposedPorts`
    args: Optional[Tuple[str, ...]] = None                          # default arguments after the binary
    user: Optional[str] = None
    entrypoint: Optional[bool] = None                               # the binary as Entrypoint (ko's way), not Cmd


@dataclass(frozen=True)
class BuildConfig:
    """One `[[builds]]` entry: how to build one main package or crate."""

    id: str = ""
    dir: str = "."                # relative to the config file's directory
    main: str = "."               # relative to dir
    env: Tuple[str, ...] = ()     # "KEY=VALUE"
    flags: Tuple[str, ...] = ()
    ldflags: Tuple[str, ...] = ()
    bin: str = ""                 # Rust: the binary target of a crate with several
    name: str = ""                # image name (default: the directory's name)
    binaries: Mapping[str, str] = field(default_factory=dict)  # prebuilt: platform -> file
    image: ImageMetadata = field(default_factory=ImageMetadata)
    mains: Tuple[str, ...] = ()   # several programs in one image (each a Go main or a crate; relative to dir)
    bins: Tuple[str, ...] = ()    # Rust: several binaries of one crate, in one image
    cmd: str = ""                 # with several: which binary is the image's command (default: the first)

    def path(self, root: str) -> str:
        """The (first) program's directory."""
        return self.main_paths(root)[0]

    def main_paths(self, root: str) -> Tuple[str, ...]:
        return tuple(os.path.normpath(os.path.join(root, self.dir, main)) for main in (self.mains or (self.main,)))


@dataclass(frozen=True)
class Config:
    source: str = ""              # the file it came from, "" if none
    root: str = "."               # the directory relative paths start from
    default_base_image: str = BUILTIN_BASE
    base_image_overrides: Mapping[str, str] = field(default_factory=dict)
    default_platforms: Tuple[str, ...] = ()
    default_env: Tuple[str, ...] = ()
    default_flags: Tuple[str, ...] = ()
    default_ldflags: Tuple[str, ...] = ()
    builds: Tuple[BuildConfig, ...] = ()
    rust_libc: str = "musl"
    rust_builder: str = "auto"
    image: ImageMetadata = field(default_factory=ImageMetadata)   # defaults for every build
    base_policy: Optional[BasePolicy] = None                  # basePolicy: who every base must be signed by
    base_policies: Mapping[str, BasePolicy] = field(default_factory=dict)   # basePolicies: per base
    cache_from: str = ""                                      # cacheFrom: Go's build cache in a registry
    cache_to: str = ""                                        # cacheTo
    cache_policy: Optional[BasePolicy] = None                 # cachePolicy: who may have written a cache read
    cache_trust: str = ""                                     # cacheTrust = "none": read caches unverified
    sign: str = ""                                            # sign = "keyless" (or "none")
    trust_config: str = ""                                    # trustConfig: the Sigstore instance to sign with
    ko_source: str = ""                                       # the .ko.yaml read, "" if none
    warnings: Tuple[str, ...] = ()                            # for the user: ignored keys, keys set twice

    def build_for(self, path: str) -> BuildConfig:
        """The [[builds]] entry for a package directory, or one from the defaults."""
        target = os.path.realpath(path)
        for build in self.builds:
            if os.path.realpath(build.path(self.root)) == target:
                return build
        return BuildConfig()

    def effective(self, build: BuildConfig) -> BuildConfig:
        """`build` with ko's rule applied: its own env/flags/ldflags, else the defaults."""
        return dataclasses.replace(build, env=build.env or self.default_env, flags=build.flags or self.default_flags,
                                   ldflags=build.ldflags or self.default_ldflags)

    def policy_for(self, path: str, build: BuildConfig, base: str, import_path: str = "") -> Optional[BasePolicy]:
        """[basePolicies] by the base's repository (or the reference as written), by build id, by
        path or by import path (as baseImageOverrides matches), else basePolicy."""
        repository = without_tag(base)
        target = os.path.realpath(path)
        for key, policy in self.base_policies.items():
            if key in (base, repository) or self._names_build(key, build, target, import_path):
                return policy
        return self.base_policy

    def base_for(self, path: str, build: BuildConfig, import_path: str = "") -> str:
        """baseImageOverrides matched by build id, by path or by import path (ko's key), else
        defaultBaseImage."""
        target = os.path.realpath(path)
        for key, ref in self.base_image_overrides.items():
            if self._names_build(key, build, target, import_path):
                return ref
        return self.default_base_image

    def _names_build(self, key: str, build: BuildConfig, real_path: str, import_path: str) -> bool:
        """Whether a baseImageOverrides/basePolicies key is the build's id, its directory or its
        import path (without regard to case, as ko's viper lowercases the keys)."""
        if not key:
            return False
        return (key == build.id or (bool(import_path) and key.lower() == import_path.lower())
                or os.path.realpath(os.path.join(self.root, key)) == real_path)


_IMAGE_KEYS = {"labels", "annotations", "imageEnv", "workingDir", "exposedPorts", "args", "user", "entrypoint"}
_TOP_KEYS = {
    "defaultBaseImage", "baseImageOverrides", "defaultPlatforms",
    "defaultEnv", "defaultFlags", "defaultLdflags", "builds", "rustLibc", "rustBuilder",
    "basePolicy", "basePolicies", "cacheFrom", "cacheTo", "cachePolicy", "cacheTrust", "sign", "trustConfig",
} | _IMAGE_KEYS
_BUILD_KEYS = {"id", "dir", "main", "env", "flags", "ldflags", "bin", "name", "binaries",
               "mains", "bins", "cmd"} | _IMAGE_KEYS


def find_config_file(cwd: str, environ: Mapping[str, str]) -> Tuple[str, bool]:
    """(path, is_pyproject) of the config to read, or ("", False) if none."""
    named = environ.get("PYKO_CONFIG", "")
    if named:
        path = os.path.join(named, ".pyko.toml") if os.path.isdir(named) else named
        if not os.path.isfile(path):
            raise ConfigError(f"PYKO_CONFIG names {named}, but there is no config file there")
        return path, os.path.basename(path) == "pyproject.toml"
    for name, is_pyproject in ((".pyko.toml", False), ("pyproject.toml", True)):
        path = os.path.join(cwd, name)
        if os.path.isfile(path):
            return path, is_pyproject
    return "", False


def read_pyko_config(cwd: str, environ: Mapping[str, str]) -> Tuple[Config, FrozenSet[str]]:
    """pyko's own file (or the defaults), and the keys it set at the top level."""
    path, is_pyproject = find_config_file(cwd, environ)
    if path:
        return _parse_file(path, is_pyproject)
    return Config(root=os.path.abspath(cwd)), frozenset()


class _Reader:
    """Turns the parsed TOML into a Config, naming file and line on any problem.

    `start` is the line a table begins on, so that a key is looked up in the
    right [[builds]] entry.
    """

    def __init__(self, path: str, text: str, where: str, start: int = 1):
        self.path, self.text, self.where, self.start = path, text, where, start

    def section(self, header: str, n: int, where: str) -> "_Reader":
        """A reader for the n-th (0-based) `[[header]]` table."""
        return _Reader(self.path, self.text, where, self._line_of(header, 1, n, array_table=True))

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self.path}:{self._line_of(key, self.start)}: {problem}")

    def _line_of(self, key: str, start: int, skip: int = 0, array_table: bool = False) -> int:
        quoted = r"(\"?)" + re.escape(key) + r"\1"
        pattern = re.compile(r"^\s*\[\[\s*" + quoted + r"\s*\]\]" if array_table else r"^\s*" + quoted + r"\s*=")
        lines = self.text.splitlines()
        for number in range(start, len(lines) + 1):
            if pattern.match(lines[number - 1]):
                if skip == 0:
                    return number
                skip -= 1
        return start

    def string(self, table: Table, key: str, default: str = "") -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"{key} must be a string, not {type(value).__name__}")
        return value

    def choice(self, table: Table, key: str, choices: Tuple[str, ...]) -> str:
        value = self.string(table, key, choices[0]) or choices[0]
        if value not in choices:
            self.fail(key, f"{key} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def table(self, table: Table, key: str, shape: str = '"os/arch" = "path"') -> Dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail(key, f'{key} must be a table of {shape}')
        return dict(value)

    def optional_strings(self, table: Table, key: str) -> Optional[Tuple[str, ...]]:
        return self.strings(table, key) if key in table else None

    def optional_string(self, table: Table, key: str) -> Optional[str]:
        return self.string(table, key) if key in table else None

    def env_table(self, table: Table, key: str) -> Dict[str, str]:
        """A table of NAME = "value", or a list of "NAME=value"."""
        value = table.get(key, {})
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            pairs = [item.partition("=") for item in value]
            if not all(sep and name for name, sep, _ in pairs):
                self.fail(key, f'{key} entries must look like "NAME=value"')
            return {name: val for name, _, val in pairs}
        return self.table(table, key, 'NAME = "value" (or a list of "NAME=value")')

    def image(self, table: Table) -> ImageMetadata:
        return ImageMetadata(
            labels=self.table(table, "labels", 'key = "value"'),
            annotations=self.table(table, "annotations", 'key = "value"'),
            env=self.env_table(table, "imageEnv"),
            working_dir=self.optional_string(table, "workingDir"),
            exposed_ports=self.optional_strings(table, "exposedPorts"),
            args=self.optional_strings(table, "args"),
            user=self.optional_string(table, "user"),
            entrypoint=self.optional_bool(table, "entrypoint"),
        )

    def optional_bool(self, table: Table, key: str) -> Optional[bool]:
        value = table.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(key, f"{key} must be true or false")
        return value

    def strings(self, table: Table, key: str, split: bool = False) -> Tuple[str, ...]:
        """A list of strings; a plain string is one item (or split on spaces, for flags)."""
        value = table.get(key, [])
        if isinstance(value, str):
            return tuple(value.split()) if split else (value,)
        if isinstance(value, dict) and key.lower().endswith("env"):
            return tuple(f"{k}={v}" for k, v in value.items())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{key} must be a list of strings")
        return tuple(value)

    def unknown(self, table: Table, allowed: Set[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.fail(key, f"unknown key {key!r} in {self.where} (known keys: {hint})")


MAX_CONFIG = 1 << 20


def _refuse_nul(value: object, path: str, where: str = "") -> None:
    """A NUL can be written in TOML ("\\u0000") but can go into no argument, path or variable."""
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(f"{path}: {where or 'a value'} contains a NUL character")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\0" in key:
            raise ConfigError(f"{path}: a key contains a NUL character")
        _refuse_nul(item, path, f"{where}.{key}" if where else str(key))


def _parse_file(path: str, is_pyproject: bool) -> Tuple[Config, FrozenSet[str]]:
    """The file's Config, and the keys it set at the top level."""
    try:
        raw = read_capped(path, MAX_CONFIG, "config")
    except UsageError as err:
        raise ConfigError(str(err)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be pyko's config") from None
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None) or _line_from_message(str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise ConfigError(f"{path}:{line}: invalid TOML: {message}") from None
    text = raw.decode("utf-8")
    _refuse_nul(data, path)
    if is_pyproject:
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "pyko" not in tool:
            return Config(root=os.path.dirname(os.path.abspath(path))), frozenset()   # a pyproject.toml not pyko's
        data = tool["pyko"]
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.pyko] must be a table")
    reader = _Reader(path, text, "[tool.pyko]" if is_pyproject else "the top level")
    reader.unknown(data, _TOP_KEYS)
    overrides = data.get("baseImageOverrides", {})
    if not isinstance(overrides, dict) or not all(isinstance(v, str) for v in overrides.values()):
        reader.fail("baseImageOverrides", "baseImageOverrides must be a table of path = \"image\"")
    builds_raw = data.get("builds", [])
    if not isinstance(builds_raw, list) or not all(isinstance(b, dict) for b in builds_raw):
        reader.fail("builds", "builds must be an array of tables: [[builds]]")
    builds = tuple(_parse_build(reader, b, n) for n, b in enumerate(builds_raw))
    for n, build in enumerate(builds):
        if build.id and build.id in [b.id for b in builds[:n]]:
            reader.section("builds", n, "").fail("id", f"two [[builds]] entries have id {build.id!r}")
    return Config(
        source=path,
        root=os.path.dirname(os.path.abspath(path)),
        default_base_image=reader.string(data, "defaultBaseImage", BUILTIN_BASE) or BUILTIN_BASE,
        base_image_overrides=dict(overrides),
        default_platforms=reader.strings(data, "defaultPlatforms"),
        default_env=reader.strings(data, "defaultEnv"),
        default_flags=reader.strings(data, "defaultFlags", split=True),
        default_ldflags=reader.strings(data, "defaultLdflags"),
        builds=builds,
        rust_libc=reader.choice(data, "rustLibc", ("musl", "gnu")),
        rust_builder=reader.choice(data, "rustBuilder", ("auto", "cargo", "auditable", "zigbuild")),
        image=reader.image(data),
        base_policy=_policy(reader, data.get("basePolicy"), "basePolicy", path) if "basePolicy" in data else None,
        base_policies=_policies(reader, data.get("basePolicies"), path),
        cache_from=reader.string(data, "cacheFrom"),
        cache_to=reader.string(data, "cacheTo"),
        cache_policy=_policy(reader, data.get("cachePolicy"), "cachePolicy", path) if "cachePolicy" in data else None,
        cache_trust=reader.choice(data, "cacheTrust", ("signed", "none")) if "cacheTrust" in data else "",
        sign=reader.choice(data, "sign", ("keyless", "none")) if "sign" in data else "",
        trust_config=_relative(reader.string(data, "trustConfig"), path),
    ), frozenset(data)


def _relative(value: str, path: str) -> str:
    """A file named in the config, relative to the config's directory."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), value) if value else ""


def _policy(reader: _Reader, table: object, where: str, path: str) -> BasePolicy:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        reader.fail(where.split(".")[0], f"{where} must be a table of strings (preset, key, certificateIdentity, ...)")
    root = os.path.dirname(os.path.abspath(path))
    return policy_from(table, reader.fail, lambda value: os.path.join(root, value))


def _policies(reader: _Reader, tables: object, path: str) -> Mapping[str, BasePolicy]:
    if tables is None:
        return {}
    if not isinstance(tables, dict):
        reader.fail("basePolicies", "basePolicies must be a table of base = { policy }")
    return {key: _policy(reader, table, f"basePolicies.{key}", path) for key, table in tables.items()}


def _parse_build(reader: _Reader, table: Table, n: int) -> BuildConfig:
    reader = reader.section("builds", n, f"[[builds]] entry {n + 1}")
    reader.unknown(table, _BUILD_KEYS)
    if "mains" in table and "main" in table:
        reader.fail("mains", "give main (one program) or mains (several), not both")
    if "bins" in table and "bin" in table:
        reader.fail("bins", "give bin (one binary) or bins (several), not both")
    for key in ("mains", "bins"):
        if key in table and not reader.strings(table, key):
            reader.fail(key, f"{key} must list at least one entry")
    return BuildConfig(
        mains=reader.strings(table, "mains"),
        bins=reader.strings(table, "bins"),
        cmd=reader.string(table, "cmd"),
        id=reader.string(table, "id"),
        dir=reader.string(table, "dir", ".") or ".",
        main=reader.string(table, "main", ".") or ".",
        env=reader.strings(table, "env"),
        flags=reader.strings(table, "flags", split=True),
        ldflags=reader.strings(table, "ldflags"),
        bin=reader.string(table, "bin"),
        name=reader.string(table, "name"),
        binaries=reader.table(table, "binaries"),
        image=reader.image(table),
    )


def _line_from_message(message: str) -> int:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else 1
