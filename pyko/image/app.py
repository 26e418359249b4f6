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
from .kodata import KO_MODE, KODATA_PATH
from .layer import TarEntry, dir_entry, file_entry

APP_DIR = "/ko-app"


#: (key, value) pairs, in order: labels, annotations, Env.
Pairs = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class ImageSettings:
    """The metadata of one build's images, final (the plan resolves it from flags, config and
    environment: templates expanded, values checked); the one type from the plan to the image."""

    user: str = NONROOT
    entrypoint: bool = False                # ko's style: ENTRYPOINT instead of CMD
    epoch: int = 0                          # SOURCE_DATE_EPOCH
    labels: Pairs = ()                      # config Labels (on top of the base's)
    annotations: Pairs = ()                 # on every image manifest and on the index
    env: Pairs = ()                         # runtime Env (on top of the base's)
    working_dir: str = ""
    exposed_ports: Tuple[str, ...] = ()     # "8080/tcp"
    args: Tuple[str, ...] = ()              # after the binary in Cmd (or Cmd itself with --entrypoint)


@dataclass(frozen=True)
class AppSpec:
    """One app image's recipe: its command's binary name, and the build's image settings."""

    name: str                      # the binary's name in the image
    image: ImageSettings = field(default_factory=ImageSettings)
    author: str = "pyko"
    ko_modes: bool = False         # a ko user's: /ko-app and its binaries 0555, as ko packs them

    @property
    def binary_path(self) -> str:
        return f"{APP_DIR}/{self.name}"


def _history(spec: AppSpec, comment: str) -> JsonObject:
    return {"created": rfc3339(spec.image.epoch), "created_by": f"pyko build {spec.name}", "comment": comment}


class LayerMaker(Protocol):
    """What makes a layer from entries: LayerCache, or a test's stand-in."""

    def layer(self, entries: Iterable[TarEntry], mtime: int = 0,
              history: Optional[Mapping[str, object]] = None) -> Layer: ...


def binary_layer(binary: str, spec: AppSpec, layers: LayerMaker, name: str = "") -> Layer:
    """The layer of one binary, /ko-app/NAME (`name`, else the command's). `layers` makes
    it: a LayerCache, or anything with its layer() method."""
    path = f"{APP_DIR}/{name or spec.name}"
    mode = KO_MODE if spec.ko_modes else 0o755
    entries = [dir_entry(APP_DIR, mode=mode), file_entry(path, source=binary, mode=mode)]
    return layers.layer(entries, spec.image.epoch, _history(spec, f"binary, at {path}"))


def kodata_layer(entries: Sequence[TarEntry], spec: AppSpec, layers: LayerMaker) -> Layer:
    """The kodata layer from entries made (and checked) by kodata_entries before compiling."""
    return layers.layer(entries, spec.image.epoch, _history(spec, f"kodata contents, at {KODATA_PATH}"))


def _set_env(env: List[str], key: str, value: str) -> List[str]:
    """`key` set to `value`: in its place when the base has it (as docker's ENV and ko's PATH do),
    else at the end."""
    entry, prefix = f"{key}={value}", key + "="
    if not any(e.startswith(prefix) for e in env):
        return [*env, entry]
    out: List[str] = []
    for e in env:
        if not e.startswith(prefix):
            out.append(e)
        elif entry not in out:
            out.append(entry)
    return out


def app_image(base: Image, layers: Sequence[Layer], spec: AppSpec, has_kodata: bool,
              annotations: Optional[Mapping[str, str]] = None) -> Image:
    """`base` plus `layers`, configured to run the binary as `spec` says."""

    def configure(config: JsonObject) -> None:
        config["created"] = rfc3339(spec.image.epoch)
        config["author"] = spec.author
        run = config.setdefault("config", {})
        run["Env"] = _env(list(run.get("Env") or []), spec, has_kodata)
        run["User"] = spec.image.user
        # Clear the base's command so our binary runs whatever the base set.
        run.pop("Entrypoint", None)
        run.pop("Cmd", None)
        if spec.image.entrypoint:
            run["Entrypoint"] = [spec.binary_path]
            if spec.image.args:
                run["Cmd"] = list(spec.image.args)
        else:
            run["Cmd"] = [spec.binary_path, *spec.image.args]
        if spec.image.working_dir:
            run["WorkingDir"] = spec.image.working_dir
        if spec.image.exposed_ports:
            run["ExposedPorts"] = {**(run.get("ExposedPorts") or {}), **{p: {} for p in spec.image.exposed_ports}}
        if spec.image.labels:
            run["Labels"] = dict(sorted({**(run.get("Labels") or {}), **dict(spec.image.labels)}.items()))

    with_layers = mutate.append_layers(base, layers)
    return mutate.edit_config(with_layers, configure, annotations)


def _env(env: List[str], spec: AppSpec, has_kodata: bool) -> List[str]:
    """The base's Env with the app's entries set over it, /ko-app on PATH, KO_DATA_PATH for kodata."""
    for key, value in spec.image.env:
        env = _set_env(env, key, value)
    path = next((e.split("=", 1)[1] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
    if APP_DIR not in path.split(":"):
        env = _set_env(env, "PATH", f"{path}:{APP_DIR}")
    if has_kodata:
        env = _set_env(env, "KO_DATA_PATH", KODATA_PATH)
    return env
