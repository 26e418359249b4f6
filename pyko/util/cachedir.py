"""Where pyko keeps what it can reuse across runs (pulled bases, CA bundles, the built-in base)."""
from __future__ import annotations

from typing import Mapping


def cache_dir(environ: Mapping[str, str]) -> str:
    """$PYKO_CACHE_DIR, else the platform's user cache directory for pyko."""
    if environ.get("PYKO_CACHE_DIR"):
        return environ["PYKO_CACHE_DIR"]
    import platformdirs

    return platformdirs.user_cache_dir("pyko")
