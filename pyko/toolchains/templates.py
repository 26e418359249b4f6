"""ko's templates in flags and ldflags: {{.Env.NAME}}, {{.Git.ShortCommit}}, ...

Only plain field references are supported (no pipelines or functions); a
missing key is an error, as in ko (text/template with missingkey=error).
Git values are computed once per directory, and only if a template asks.
"""
from __future__ import annotations

import functools
import re
import subprocess
from typing import Callable, Mapping, Sequence, Tuple

from .. import children
from ..errors import UsageError
from ..image.timestamps import rfc3339

_FIELD = re.compile(r"\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*-?\}\}")
_ANY = re.compile(r"\{\{.*?\}\}")


def _git(cwd: str, *args: str) -> str:
    try:
        out = children.run(["git", *args], cwd=cwd, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()


@functools.lru_cache(maxsize=None)
def git_values(cwd: str) -> Mapping[str, str]:
    full = _git(cwd, "rev-parse", "HEAD")
    if not full:
        raise UsageError(f"a {{{{.Git.*}}}} template is used, but {cwd} is not in a git checkout with a commit")
    dirty = bool(_git(cwd, "status", "--porcelain"))
    stamp = _git(cwd, "log", "-1", "--format=%ct")
    return {
        "FullCommit": full,
        "ShortCommit": _git(cwd, "rev-parse", "--short=7", "HEAD"),
        "Branch": _git(cwd, "rev-parse", "--abbrev-ref", "HEAD"),
        "Tag": _git(cwd, "describe", "--exact-match", "--tags", "HEAD"),
        "CommitTimestamp": stamp,
        "CommitDate": rfc3339(int(stamp)) if stamp.isdigit() else "",
        "IsDirty": "true" if dirty else "false",
        "IsClean": "false" if dirty else "true",
        "TreeState": "dirty" if dirty else "clean",
    }


def expand(values: Sequence[str], env: Mapping[str, str], cwd: str, epoch: int) -> Tuple[str, ...]:
    """Expand templates in each value; `env` is what {{.Env.X}} sees."""
    return tuple(_expand_one(v, env, cwd, epoch) for v in values)


def _expand_one(text: str, env: Mapping[str, str], cwd: str, epoch: int) -> str:
    if "{{" not in text:
        return text

    def lookup(match: re.Match) -> str:
        group, key = match.group(1), match.group(2)
        tables: Mapping[str, Callable[[], Mapping[str, str]]] = {
            "Env": lambda: {"LDFLAGS": "", **env},
            "Git": lambda: git_values(cwd),
        }
        if key is None and group in ("Date", "Timestamp"):
            return rfc3339(epoch) if group == "Date" else str(epoch)
        if key is None or group not in tables:
            raise UsageError(f"unsupported template {match.group(0)} in {text!r}; "
                             "pyko supports {{.Env.NAME}}, {{.Git.FIELD}}, {{.Date}} and {{.Timestamp}}")
        table = tables[group]()
        if key not in table:
            raise UsageError(f"template {match.group(0)} in {text!r}: no {group} value named {key}")
        return table[key]

    leftover = _ANY.search(_FIELD.sub("", text))
    if leftover:
        raise UsageError(f"unsupported template {leftover.group(0)} in {text!r}; "
                         "pyko supports {{.Env.NAME}}, {{.Git.FIELD}}, {{.Date}} and {{.Timestamp}}")
    return _FIELD.sub(lookup, text)
