"""ko's templates: {{.Env.NAME}}, {{.Git.ShortCommit}}, {{.Date}}, ... in flags, ldflags,
tags, labels, annotations and the image's env values.

Only plain field references are supported (no pipelines or functions); a
missing key is an error, as in ko (text/template with missingkey=error).
Git values are computed once per directory, and only if a template asks.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence, Tuple

from ..errors import UsageError
from .timestamps import rfc3339
from .vcs import git_values

_FIELD = re.compile(r"\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*-?\}\}")
_ANY = re.compile(r"\{\{.*?\}\}")


def _git_table(cwd: str) -> Mapping[str, str]:
    values = git_values(cwd)
    if values is None:
        raise UsageError(f"a {{{{.Git.*}}}} template is used, but {cwd} is not in a git checkout with a commit")
    return values


def expand(values: Sequence[str], env: Mapping[str, str], cwd: str, epoch: int) -> Tuple[str, ...]:
    """Expand templates in each value; `env` is what {{.Env.X}} sees."""
    return tuple(expand_one(v, env, cwd, epoch) for v in values)


def expand_one(text: str, env: Mapping[str, str], cwd: str, epoch: int) -> str:
    if "{{" not in text:
        return text

    def lookup(match: re.Match[str]) -> str:
        group, key = match.group(1), match.group(2)
        tables: Mapping[str, Callable[[], Mapping[str, str]]] = {
            "Env": lambda: {"LDFLAGS": "", **env},
            "Git": lambda: _git_table(cwd),
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
