"""The process environment, read in this one place, and pyko's own variables parsed once.

Everything below the plan is handed either the values parsed here or the environment
as a mapping, to pass on to the child processes and tools that read their own variables
(PATH, GOFLAGS, CARGO_HOME, DOCKER_CONFIG, SSL_CERT_FILE, ...). tests/unit/test_architecture.py
checks that no other module reads os.environ or names one of pyko's variables.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from ..errors import UsageError, clean_text

#: Retrying one registry operation stops after this long, unless told otherwise.
DEFAULT_REGISTRY_TIMEOUT = 300.0
DEFAULT_REGISTRY_RETRIES = 8
DEFAULT_REGISTRY_BACKOFF = 0.5
LOCAL_ENGINES = ("auto", "docker", "podman")


def process_environment() -> Dict[str, str]:
    """A copy of the environment pyko was started with."""
    return dict(os.environ)


def cache_dir(environ: Mapping[str, str]) -> str:
    """$PYKO_CACHE_DIR, else the platform's user cache directory for pyko."""
    if environ.get("PYKO_CACHE_DIR"):
        return environ["PYKO_CACHE_DIR"]
    import platformdirs

    return platformdirs.user_cache_dir("pyko")


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a number") from None
    if not value >= minimum:  # also refuses nan
        raise UsageError(f"{name}={text!r}: give a number of at least {minimum:g}")
    return value


def registry_timeout(flag: float, environ: Mapping[str, str]) -> float:
    """--registry-timeout, else $PYKO_REGISTRY_TIMEOUT, else 300 s; at least 1 s either way."""
    return flag or _number(environ, "PYKO_REGISTRY_TIMEOUT", DEFAULT_REGISTRY_TIMEOUT, minimum=1)


def registry_retries(environ: Mapping[str, str]) -> int:
    return int(_number(environ, "PYKO_REGISTRY_RETRIES", DEFAULT_REGISTRY_RETRIES))


def registry_backoff(environ: Mapping[str, str]) -> float:
    return _number(environ, "PYKO_REGISTRY_BACKOFF", DEFAULT_REGISTRY_BACKOFF)


def kodata_root(environ: Mapping[str, str]) -> str:
    """Where kodata's symlinks may point ("" for pyko's default: the package, or kodata/ for a ko
    user). KO_DATA_PATH_ALLOWED_ROOT is another spelling pyko reads, not a variable of ko's."""
    return environ.get("PYKO_DATA_PATH_ALLOWED_ROOT") or environ.get("KO_DATA_PATH_ALLOWED_ROOT") or ""


def sigstore_offline(environ: Mapping[str, str]) -> bool:
    """PYKO_SIGSTORE_OFFLINE: use the trusted root shipped with sigstore, never refresh it."""
    return bool(environ.get("PYKO_SIGSTORE_OFFLINE"))


#: Variables that override a config key (pyko's first, then ko's, as ko's viper reads KO_<KEY>).
#: Lists are split as ko splits them: platforms on commas (and spaces), the rest on white space.
_CONFIG_VARIABLES = (("default_base_image", "DEFAULTBASEIMAGE"), ("default_platforms", "DEFAULTPLATFORMS"),
                     ("default_env", "DEFAULTENV"), ("default_flags", "DEFAULTFLAGS"),
                     ("default_ldflags", "DEFAULTLDFLAGS"))


def config_overrides(environ: Mapping[str, str]) -> Dict[str, Any]:
    """Config fields the environment sets: PYKO_<KEY>, else KO_<KEY> (e.g. KO_DEFAULTBASEIMAGE)."""
    out: Dict[str, Any] = {}   # Config field -> value, of that field's type
    for field_name, key in _CONFIG_VARIABLES:
        text = (environ.get(f"PYKO_{key}") or environ.get(f"KO_{key}") or "").strip()
        if not text:
            continue
        if field_name == "default_base_image":
            out[field_name] = text
        elif field_name == "default_platforms":
            out[field_name] = tuple(p for p in text.replace(",", " ").split() if p)
        else:
            out[field_name] = tuple(text.split())
    return out


#: ko's own variables: one set makes the run a ko user's (ko mode), as a .ko.yaml does.
KO_VARIABLES = ("KO_DOCKER_REPO", "KO_CONFIG_PATH", *(f"KO_{key}" for _, key in _CONFIG_VARIABLES))


def ko_mode_setting(environ: Mapping[str, str]) -> Optional[bool]:
    """PYKO_KO_MODE: true or false forces ko's defaults on or off; unset (None) lets the run decide."""
    text = environ.get("PYKO_KO_MODE", "").strip().lower()
    if not text:
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"PYKO_KO_MODE={clean_text(text, 20)} is not true or false")


def uses_ko_variables(environ: Mapping[str, str]) -> bool:
    return any(environ.get(name) for name in KO_VARIABLES)


def ko_default_platform(environ: Mapping[str, str]) -> str:
    """ko's platform when neither --platform nor defaultPlatforms names one: $GOOS/$GOARCH when both
    are set (and $GOARM as the variant for arm), else linux/amd64, whatever this machine is. ko applies
    GOARM whenever GOARCH contains "arm", which would make arm64 "arm64/v7"; here only for arm."""
    goos, goarch, goarm = (environ.get(name, "").strip() for name in ("GOOS", "GOARCH", "GOARM"))
    platform = f"{goos}/{goarch}" if goos and goarch else "linux/amd64"
    if goos and goarch == "arm" and goarm:
        platform += f"/v{goarm}"
    return platform


def docker_repo(environ: Mapping[str, str]) -> str:
    return environ.get("PYKO_DOCKER_REPO") or environ.get("KO_DOCKER_REPO") or ""


def kubectl_program(environ: Mapping[str, str]) -> str:
    return environ.get("PYKO_KUBECTL", "kubectl")


def local_engine(flag: str, environ: Mapping[str, str]) -> str:
    """--local-engine, else $PYKO_LOCAL_ENGINE, else auto."""
    choice = flag or environ.get("PYKO_LOCAL_ENGINE", "").strip() or "auto"
    if choice not in LOCAL_ENGINES:
        raise UsageError(f"PYKO_LOCAL_ENGINE={choice!r}: choose one of {', '.join(LOCAL_ENGINES)}")
    return choice
