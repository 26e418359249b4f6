"""What git says about a source directory: for ko's {{.Git.*}} templates and for
the OCI annotations that say which commit an image was built from.

Each directory is asked once per run (the answers are cached), and only when
something needs them. A directory outside any git checkout is not an error
here: the caller decides (a template needs git, an annotation is just left out).
"""
from __future__ import annotations

import functools
import os
import subprocess
import urllib.parse
from dataclasses import dataclass
from typing import Mapping, Optional

from . import children
from .gotemplate import Int64
from .timestamps import rfc3339


def git(cwd: str, *args: str) -> str:
    """git's stdout (stripped), or "" when git is missing or fails."""
    try:
        out = children.run(["git", *args], cwd=cwd, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return str(out.stdout).strip()


@functools.lru_cache(maxsize=None)
def git_values(cwd: str) -> Optional[Mapping[str, str]]:
    """What git says of the checkout holding `cwd` (its commit, branch, tag, date, state), or None
    outside one: for the OCI annotations and provenance."""
    full = git(cwd, "rev-parse", "HEAD")
    if not full:
        return None
    dirty = bool(git(cwd, "status", "--porcelain"))
    stamp = git(cwd, "log", "-1", "--format=%ct")
    return {
        "FullCommit": full,
        "ShortCommit": git(cwd, "rev-parse", "--short=7", "HEAD"),
        "Branch": git(cwd, "rev-parse", "--abbrev-ref", "HEAD"),
        "Tag": git(cwd, "describe", "--exact-match", "--tags", "HEAD"),
        "CommitTimestamp": stamp,
        "CommitDate": rfc3339(int(stamp)) if stamp.isdigit() else "",
        "IsDirty": "true" if dirty else "false",
        "IsClean": "false" if dirty else "true",
        "TreeState": "dirty" if dirty else "clean",
    }


# ko's .Git when the directory is not in a checkout with a commit (Go's zero time for the date).
_NO_GIT: Mapping[str, object] = {
    "Branch": "", "Tag": "", "ShortCommit": "", "FullCommit": "", "CommitDate": "0001-01-01T00:00:00Z",
    "CommitTimestamp": -62135596800, "IsDirty": False, "IsClean": True, "TreeState": "clean",
}


@functools.lru_cache(maxsize=None)
def ko_git_info(cwd: str) -> Mapping[str, object]:
    """.Git as ko's templates see it (ko's internal/git): the commit, its branch and UTC date, the
    nearest tag (v0.0.0 without one), whether the tree is dirty; the timestamp an int64 and the
    two states booleans. Outside a checkout, the empty values above, as in ko."""
    def ask(*args: str) -> str:
        line = git(cwd, "-c", "log.showSignature=false", *args).split("\n")[0]
        return line.replace("'", "").strip()

    if ask("rev-parse", "--is-inside-work-tree") != "true":
        return {**_NO_GIT, "CommitTimestamp": Int64(-62135596800)}
    full = ask("show", "--format=%H", "HEAD", "--quiet")
    branch = ask("rev-parse", "--abbrev-ref", "HEAD", "--quiet")
    if not full or not branch:
        return {**_NO_GIT, "CommitTimestamp": Int64(-62135596800)}
    stamp = ask("show", "--format=%ct", "HEAD", "--quiet")
    when = int(stamp) if stamp.lstrip("-").isdigit() else -62135596800
    dirty = bool(git(cwd, "status", "--porcelain"))
    return {
        "Branch": branch,
        "Tag": ask("describe", "--tags", "--abbrev=0", "HEAD") or "v0.0.0",
        "ShortCommit": ask("show", "--format=%h", "HEAD", "--quiet"),
        "FullCommit": full,
        "CommitDate": rfc3339(when) if when >= 0 else _NO_GIT["CommitDate"],
        "CommitTimestamp": Int64(when),
        "IsDirty": dirty,
        "IsClean": not dirty,
        "TreeState": "dirty" if dirty else "clean",
    }


@dataclass(frozen=True)
class Source:
    revision: str       # the full commit
    url: str            # the remote's URL, credentials removed ("" without a remote)
    path: str = "."     # the directory within the repository, "/"-separated ("." for its root)
    changes: str = ""   # "sha256:<hex>" of the uncommitted changes; "" when the tree is the commit


@functools.lru_cache(maxsize=None)
def source_of(cwd: str) -> Optional[Source]:
    """The commit and remote of the checkout holding `cwd`, where `cwd` is in it, and whether
    (and how) the working tree differs from the commit; None outside a checkout."""
    values = git_values(cwd)
    if values is None:
        return None
    remote = _remote_name(cwd)
    url = git(cwd, "remote", "get-url", remote) if remote else ""
    prefix = git(cwd, "rev-parse", "--show-prefix").rstrip("/")
    changes = uncommitted_changes(cwd) if values["IsDirty"] == "true" else ""
    return Source(values["FullCommit"], without_credentials(url), prefix or ".", changes)


def uncommitted_changes(cwd: str) -> str:
    """A digest of everything by which the checkout differs from its commit: the binary diff of
    tracked files against HEAD, and each untracked (not ignored) file's name and content."""
    import hashlib

    top = git(cwd, "rev-parse", "--show-toplevel")
    digest = hashlib.sha256()
    try:
        diff = children.run(["git", "diff", "--binary", "--no-ext-diff", "HEAD"], cwd=top, check=True)
        digest.update(diff.stdout)
        untracked = children.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=top, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "sha256:" + hashlib.sha256(b"unknown changes").hexdigest()
    for name in sorted(n for n in untracked.stdout.split(b"\0") if n):
        digest.update(b"\0untracked\0" + name + b"\0")
        path = os.path.join(top.encode(), name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        elif os.path.islink(path):
            digest.update(os.readlink(path))
    return "sha256:" + digest.hexdigest()


def _remote_name(cwd: str) -> str:
    """The current branch's upstream remote, else `origin`, else the first remote."""
    branch = git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")
    upstream = git(cwd, "config", "--get", f"branch.{branch}.remote") if branch else ""
    remotes = git(cwd, "remote").split()
    if upstream in remotes:
        return upstream
    if "origin" in remotes:
        return "origin"
    return remotes[0] if remotes else ""


def without_credentials(url: str) -> str:
    """A remote URL fit to publish: no user, password or token, no query or fragment.

    `https://user:token@host/r.git` -> `https://host/r.git`. scp-like remotes
    (`git@host:org/r.git`) carry a user name but never a secret; they are kept.
    """
    url = url.strip()
    if "://" not in url:
        return url if url.isprintable() else ""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
