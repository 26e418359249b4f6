"""ko's `.ko.yaml`, read as ko v0.19 reads it, into pyko's Config.

Found as ko finds it: $KO_CONFIG_PATH (a file, or a directory holding .ko.yaml; an error if
neither), else .ko.yaml in the working directory. Its `builds[].dir` are relative to the working
directory, not to the file, as in ko. Keys match without regard to case, as ko's config library
(viper and mapstructure) matches them, and so do `baseImageOverrides` keys (viper lowercases them).

ko ignores keys it does not know; pyko warns about each by name (with the key it probably meant),
so a misspelled key is never silently without effect. `linux_capabilities`, which pyko cannot honour
yet, is an error: an image without the capability would fail at run time instead.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, replace
from typing import Any, Dict, FrozenSet, List, Mapping, NoReturn, Tuple

import yaml

from ..errors import ConfigError, UsageError, clean_text
from ..util.files import read_capped
from ..util.jsontypes import Table
from .config import BuildConfig, Config

MAX_KO_CONFIG = 1 << 20
#: ko's top-level keys, and the field of pyko's Config each one sets.
KO_KEYS = {"defaultBaseImage": "default_base_image", "baseImageOverrides": "base_image_overrides",
           "defaultPlatforms": "default_platforms", "defaultEnv": "default_env", "defaultFlags": "default_flags",
           "defaultLdflags": "default_ldflags", "builds": "builds"}
KO_BUILD_KEYS = ("id", "dir", "main", "env", "flags", "ldflags", "linux_capabilities")


@dataclass(frozen=True)
class KoConfig:
    """What a .ko.yaml said, as pyko's Config fields."""

    path: str
    values: Mapping[str, Any]           # Config field -> value (of that field's type), for the keys the file set
    warnings: Tuple[str, ...] = ()


def find_ko_config(cwd: str, environ: Mapping[str, str]) -> str:
    """The .ko.yaml to read, or "" if none: ko's rule, KO_CONFIG_PATH first."""
    named = environ.get("KO_CONFIG_PATH", "")
    if named:
        path = os.path.join(named, ".ko.yaml") if os.path.isdir(named) else named
        if not os.path.isfile(path):
            raise ConfigError(f"KO_CONFIG_PATH names {named}, but there is no .ko.yaml file there")
        return path
    path = os.path.join(cwd, ".ko.yaml")
    return path if os.path.isfile(path) else ""


def read_ko_config(path: str, cwd: str) -> KoConfig:
    data = _load(path)
    where = _Where(path)
    top = where.folded(data, tuple(KO_KEYS), "the top level")
    values: Dict[str, Any] = {}
    for key, value in top.items():
        if key == "defaultBaseImage":
            values[KO_KEYS[key]] = where.string(value, key).strip()
        elif key == "baseImageOverrides":
            values[KO_KEYS[key]] = where.overrides(value)
        elif key == "builds":
            values[KO_KEYS[key]] = where.builds(value, cwd)
        else:  # viper's GetStringSlice: a list, or a string split on white space
            values[KO_KEYS[key]] = where.slice(value, key, split=True)
    return KoConfig(path, values, tuple(where.warnings))


def merge_ko(config: Config, toml_keys: FrozenSet[str], ko: KoConfig) -> Config:
    """`config` (from .pyko.toml, or the defaults) with the .ko.yaml's values under it: a key
    both files set is pyko's, with a warning; an image built from a ko project runs its binary
    as ko's Entrypoint unless .pyko.toml says `entrypoint`."""
    warnings: List[str] = list(config.warnings) + list(ko.warnings)
    changes: Dict[str, Any] = {}   # Config field -> value, of that field's type
    for key, field_name in KO_KEYS.items():
        if field_name not in ko.values:
            continue
        if key in toml_keys:
            warnings.append(f"{key} is set in both {config.source} and {ko.path}: using {config.source}'s")
            continue
        changes[field_name] = ko.values[field_name]
    image = config.image
    if image.entrypoint is None:
        image = replace(image, entrypoint=True)
    return replace(config, **changes, image=image, ko_source=ko.path, warnings=tuple(warnings))


def _load(path: str) -> Table:
    try:
        raw = read_capped(path, MAX_KO_CONFIG, "ko config")
    except UsageError as err:
        raise ConfigError(str(err)) from None
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be ko's config") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: invalid YAML: {clean_text(problem, 200)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: ko's config must be a mapping of keys (defaultBaseImage: ..., builds: ...)")
    return data


class _Where:
    """Reads values of one .ko.yaml, naming the file and key in each error, collecting warnings."""

    def __init__(self, path: str):
        self.path = path
        self.warnings: List[str] = []

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self.path}: {key}: {problem}")

    def folded(self, table: Table, known: Tuple[str, ...], where: str) -> Dict[str, object]:
        """The table's entries under their canonical (known) names; unknown keys warned about."""
        by_fold = {name.lower(): name for name in known}
        out: Dict[str, object] = {}
        for key, value in table.items():
            name = by_fold.get(str(key).lower())
            if name is None:
                self._unknown(str(key), known, where)
            elif name in out:
                self.fail(name, f"set twice in {where} (keys match without regard to case, as in ko)")
            else:
                out[name] = value
        return out

    def _unknown(self, key: str, known: Tuple[str, ...], where: str) -> None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (ko's keys here: {', '.join(known)})"
        self.warnings.append(f"{self.path}: unknown key {clean_text(key, 60)!r} in {where} is ignored{hint}")

    def string(self, value: object, key: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(key, f"must be a string, not {_kind(value)}")
        if "\0" in str(value):
            self.fail(key, "contains a NUL character")
        return str(value)

    def slice(self, value: object, key: str, split: bool) -> Tuple[str, ...]:
        """A list of strings; one string is split on white space (`split`) or is one item."""
        if value is None:
            return ()
        if isinstance(value, list):
            return tuple(self.string(item, key) for item in value)
        text = self.string(value, key)
        return tuple(text.split()) if split else (text,)

    def overrides(self, value: object) -> Dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail("baseImageOverrides", "must map import paths to base images")
        return {self.string(k, "baseImageOverrides"): self.string(v, f"baseImageOverrides.{k}").strip()
                for k, v in value.items()}

    def builds(self, value: object, cwd: str) -> Tuple[BuildConfig, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail("builds", "must be a list of entries (- id: ..., main: ...)")
        out = tuple(self._build(item, n, cwd) for n, item in enumerate(value))
        ids = [b.id for b in out if b.id]
        for build_id in ids:
            if ids.count(build_id) > 1:
                self.fail("builds", f"two entries have id {build_id!r}")
        return out

    def _build(self, table: Table, n: int, cwd: str) -> BuildConfig:
        where = f"builds entry {n + 1}"
        entry = self.folded(table, KO_BUILD_KEYS, where)
        if entry.get("linux_capabilities"):
            self.fail(f"builds[{n}].linux_capabilities", "pyko cannot give a binary file capabilities yet; "
                      "build this image with ko, or grant the capability in the pod's securityContext")
        directory = os.path.join(cwd, self.string(entry.get("dir") or ".", f"builds[{n}].dir"))
        main = self.string(entry.get("main") or ".", f"builds[{n}].main")
        if os.path.isfile(os.path.join(directory, main)):
            main = os.path.dirname(main) or "."   # ko (as GoReleaser) takes a main.go for its package
        return BuildConfig(
            id=self.string(entry.get("id") or "", f"builds[{n}].id"),
            dir=os.path.normpath(directory), main=main,
            env=self.slice(entry.get("env"), f"builds[{n}].env", split=False),
            flags=self.slice(entry.get("flags"), f"builds[{n}].flags", split=True),
            ldflags=self.slice(entry.get("ldflags"), f"builds[{n}].ldflags", split=False),
        )


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", type(None): "empty"}.get(type(value), "a value")

