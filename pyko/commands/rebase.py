"""`pyko rebase`: move an image, every platform at once, onto a new base without recompiling.

For each platform the old base is the one the image's own annotations name
(org.opencontainers.image.base.name + .base.digest, which pyko writes), or
--old-base. Its layers must be exactly the image's bottom layers; they are
replaced by the new base's for that platform (image/rebased.py does the
config). The app's layers are not touched, so pushing the result uploads only
the new configs and manifests: the new base's layers are mounted from its
repository, the app's are already there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Protocol, Tuple, Type

from ..errors import UsageError, clean_text
from ..image import Image, Index, mediatypes
from ..image.rebased import RebaseError, rebase
from ..platforms import Platform, platform_order
from ..reference import Reference
from ..supplychain.sign import Signing
from ..transport.attachment_stores import AttachmentStore
from ..transport.registry.hosts import Registries
from ..transport.registry.pull import BASE_DIGEST, BASE_NAME, RemoteBase, open_remote_base
from ..util.progress import Reporter
from .bases import Base, open_base


class Rebaseable(Protocol):
    """An image (or index) that can be read to be rebased: in a registry (RemoteBase) or a layout (LayoutImage)."""

    name: str
    media_type: str                     # an index's, or (an image alone) its manifest's

    def platforms(self) -> List[Platform]: ...

    def image_for(self, platform: Platform) -> Image: ...

    def own_annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        """The index's own annotations (no platform), or one platform image's."""


@dataclass(frozen=True)
class RebaseRequest:
    image: str                          # a registry reference, or NAME:TAG in --oci-layout
    new_base: str
    old_base: str = ""                  # "" : from the image's annotations
    tags: Tuple[str, ...] = ()
    oci_layout: str = ""


def _old_base_for(image: Rebaseable, platform: Platform, given: Optional[Base], opener: Callable[[str], Base],
                  shown: str) -> Image:
    if given is not None:
        if platform not in given.platforms():
            raise RebaseError(f"--old-base {given.name} has no {platform} image, which {shown} has")
        return given.image_for(platform)
    annotations = image.own_annotations(platform)
    name, digest = annotations.get(BASE_NAME), annotations.get(BASE_DIGEST)
    if not (name and digest):
        raise UsageError(f"{shown} ({platform}) does not say what it was built on (no {BASE_NAME} and "
                         f"{BASE_DIGEST} annotations; images on pyko://static have none): give --old-base")
    try:
        repository = Reference.parse(name).name
    except UsageError:
        raise RebaseError(f"{shown}: its {BASE_NAME} annotation {clean_text(name, 80)!r} is not a reference; "
                          "give --old-base") from None
    base = opener(f"{repository}@{digest}")   # that platform's own manifest: a one-image base
    return base.image_for(base.platforms()[0])


def rebased_index(image: Rebaseable, request: RebaseRequest, opener: Callable[[str], Base], shown: str) -> Index:
    """The rebased index of `image`, a LayoutImage or RemoteBase (an image alone as a one-entry index,
    written alone again: see write_rebased)."""
    new_base = opener(request.new_base)
    given = opener(request.old_base) if request.old_base else None
    offered = set(new_base.platforms())
    images: List[Image] = []
    for platform in sorted(image.platforms(), key=platform_order):
        if platform not in offered:
            raise RebaseError(f"the new base {new_base.name} has no {platform} image; it offers "
                              + ", ".join(str(p) for p in new_base.platforms()))
        annotations = _annotations(image.own_annotations(platform), new_base.annotations(platform))
        old = _old_base_for(image, platform, given, opener, shown)
        images.append(rebase(image.image_for(platform), old, new_base.image_for(platform), annotations,
                             f"{shown} ({platform})"))
    return Index.build(images, _annotations(image.own_annotations(), new_base.annotations()))


def _annotations(own: Dict[str, str], base: Dict[str, str]) -> Dict[str, str]:
    """The image's annotations with the base's replaced (removed when the new base is pyko://static)."""
    kept = {k: v for k, v in own.items() if k not in (BASE_NAME, BASE_DIGEST)}
    return {**kept, **base}


def opener_for(cache_dir: str, registries: Registries) -> Callable[[str], Base]:
    cached: Dict[str, Base] = {}

    def open_one(ref: str) -> Base:
        if ref not in cached:
            cached[ref] = open_base(ref, cache_dir, registries)
        return cached[ref]

    return open_one


def source_image(request: RebaseRequest, cache_dir: str, registries: Registries) -> Rebaseable:
    """The image to rebase: from the layout, or from the registry (layers read only if needed)."""
    if request.oci_layout:
        from ..transport.oci_layout_images import LayoutImage

        return LayoutImage(request.oci_layout, request.image)
    return open_remote_base(request.image, registries, cache_dir)


def write_rebased(request: RebaseRequest, cache_dir: str, registries: Registries, signing: Optional[Signing],
                  reporter: Reporter) -> str:
    """Rebase, then write the result where the image was (its repository, or its layout); returns
    the reference to deploy."""
    from ..reference import check_tag
    from ..transport.attachment_stores import LayoutAttachments, RegistryAttachments
    from ..transport.destinations import Outgoing
    from ..transport.destinations.layout import LayoutDestination
    from ..transport.destinations.registry import RegistryDestination

    image = source_image(request, cache_dir, registries)
    index = rebased_index(image, request, opener_for(cache_dir, registries), request.image)
    # An image written alone (a ko user's one platform, or anything pushed without an index) stays one.
    alone = image.media_type in mediatypes.MANIFEST_TYPES
    if signing is not None:
        signing.signer.prepare()   # a keyless certificate is had before anything is written
    if request.oci_layout:
        name, _, own_tag = request.image.rpartition(":")
        tags = tuple(check_tag(t) for t in (request.tags or (own_tag,)))
        out = Outgoing(name, index, tags, alone=alone)
        reporter.info(LayoutDestination(request.oci_layout).write(out))
        store: AttachmentStore = LayoutAttachments(request.oci_layout, name)
    else:
        ref = Reference.parse(request.image)
        tags = tuple(check_tag(t) for t in (request.tags or ((ref.tag,) if ref.tag else ())))
        out = Outgoing(ref.name, index, tags, Reference(ref.registry, ref.repository), alone=alone)
        reporter.info(RegistryDestination(registries, [ref.registry], 4).write(out))
        store = RegistryAttachments(registries(ref.registry), ref.repository)
    reference = f"{out.name}@{out.top.digest}"
    if signing is not None:
        signed = signing.sign(store, out.top.digest, out.name, request.oci_layout)
        reporter.info(f"signed {len(signed)} manifest(s) of {reference} ({signing.form} format) as "
                      f"{signing.signer.description}")
    return reference


if TYPE_CHECKING:   # each implementation checked against the protocol
    from ..transport.oci_layout_images import LayoutImage

    _layout: Type[Rebaseable] = LayoutImage
    _remote: Type[Rebaseable] = RemoteBase
