"""The registry clients a command talks through, made from the plan's RegistrySettings: one place for
`build`, `login`, `sign`, `verify`, `index create` and `rebase` alike."""
from __future__ import annotations

from typing import Mapping, Optional

from ..plan.resolve import RegistrySettings
from ..transport.registry.hosts import Registries
from ..transport.registry.http import TransportOptions
from ..util.progress import Reporter


def transport_for(settings: RegistrySettings, environ: Mapping[str, str]) -> TransportOptions:
    return TransportOptions(insecure=settings.insecure, ca_file=settings.ca_file, retries=settings.retries,
                            backoff=settings.backoff, deadline=settings.timeout, pool=settings.pool,
                            environ=environ, cache_dir=settings.cache_dir)


def registries_for(settings: RegistrySettings, environ: Mapping[str, str],
                   reporter: Optional[Reporter] = None) -> Registries:
    return Registries(transport_for(settings, environ), reporter)
