"""The image pyko makes: a base, an optional kodata layer, then the binary.

Layout follows ko: the binary lives at /ko-app/<name> (0755, root-owned),
/ko-app is appended to PATH, kodata is at /var/run/ko with KO_DATA_PATH set.
Unlike ko, the default is CMD (an ENTRYPOINT on request) and the user is
nonroot 65532 whatever the base says, unless the caller asks otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple

from ..util.jsontypes import JsonObject
from ..util.timestamps import rfc3339
from . import mutate
from .blob import Layer
from .conventions import DEFAULT_PATH, NONROOT
from .image import Image
from .kodata import KODATA_PATH
from .layer import TarEntry, dir_entry, file_entry

APP_DIR = "/ko-app"


@dataclass(frozen=True)
class AppSpec:
    name: str                      # the binary's name in the image
    user: str = NONROOT
    entrypoint: bool = False       # ko's style: ENTRYPOINT instead of CMD
    epoch: int = 0                 # SOURCE_DATE_EPOCH
    author: str = "pyko"
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Sequence[Tuple[str, str]] = ()           # runtime Env, set over the base's
    working_dir: str = ""
    exposed_ports: Sequence[str] = ()             # "8080/tcp"
    args: Sequence[str] = ()                      # default arguments after the binary

    @property
    def binary_path(self) -> str:
        return f"{APP_DIR}/{self.name}"


def _history(spec: AppSpec, comment: str) -> JsonObject:
    return {"created": rfc3339(spec.epoch), "created_by": f"pyko build {spec.name}", "comment": comment}


class LayerMaker(Protocol):
    """What makes a layer from entries: LayerCache, or a test's stand-in."""

    def layer(self, entries: Iterable[TarEntry], mtime: int = 0,
              history: Optional[Mapping[str, object]] = None) -> Layer: ...


def binary_layer(binary: str, spec: AppSpec, layers: LayerMaker, name: str = "") -> Layer:
    """The layer of one binary, /ko-app/NAME (`name`, else the command's). `layers` makes
    it: a LayerCache, or anything with its layer() method."""
    path = f"{APP_DIR}/{name or spec.name}"
    entries = [dir_entry(APP_DIR), file_entry(path, source=binary, mode=0o755)]
    return layers.layer(entries, spec.epoch, _history(spec, f"binary, at {path}"))


def kodata_layer(entries: Sequence[TarEntry], spec: AppSpec, layers: LayerMaker) -> Layer:
    """The kodata layer from entries made (and checked) by kodata_entries before compiling."""
    return layers.layer(entries, spec.epoch, _history(spec, f"kodata contents, at {KODATA_PATH}"))


def _set_env(env: List[str], key: str, value: str) -> List[str]:
    return [e for e in env if not e.startswith(key + "=")] + [f"{key}={value}"]


def app_image(base: Image, layers: Sequence[Layer], spec: AppSpec, has_kodata: bool,
              annotations: Optional[Mapping[str, str]] = None) -> Image:
    """`base` plus `layers`, configured to run the binary as `spec` says."""

    def configure(config: JsonObject) -> None:
        config["created"] = rfc3339(spec.epoch)
        config["author"] = spec.author
        run = config.setdefault("config", {})
        run["Env"] = _env(list(run.get("Env") or []), spec, has_kodata)
        run["User"] = spec.user
        # Clear the base's command so our binary runs whatever the base set.
        run.pop("Entrypoint", None)
        run.pop("Cmd", None)
        if spec.entrypoint:
            run["Entrypoint"] = [spec.binary_path]
            if spec.args:
                run["Cmd"] = list(spec.args)
        else:
            run["Cmd"] = [spec.binary_path, *spec.args]
        if spec.working_dir:
            run["WorkingDir"] = spec.working_dir
        if spec.exposed_ports:
            run["ExposedPorts"] = {**(run.get("ExposedPorts") or {}), **{p: {} for p in spec.exposed_ports}}
        if spec.labels:
            run["Labels"] = dict(sorted({**(run.get("Labels") or {}), **spec.labels}.items()))

    with_layers = mutate.append_layers(base, layers)
    return mutate.edit_config(with_layers, configure, annotations)


def _env(env: List[str], spec: AppSpec, has_kodata: bool) -> List[str]:
    """The base's Env with the app's entries set over it, /ko-app on PATH, KO_DATA_PATH for kodata."""
    for key, value in spec.env:
        env = _set_env(env, key, value)
    path = next((e.split("=", 1)[1] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
    if APP_DIR not in path.split(":"):
        env = _set_env(env, "PATH", f"{path}:{APP_DIR}")
    if has_kodata:
        env = _set_env(env, "KO_DATA_PATH", KODATA_PATH)
    return env
