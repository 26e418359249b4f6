"""Small in-memory images and indexes for unit tests: one uncompressed layer each."""
from pyko.image import BytesBlob, Image, Index, Layer


def tiny_image(arch="amd64", data=b"layer", annotations=None):
    blob = BytesBlob("application/vnd.oci.image.layer.v1.tar", data)
    config = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [blob.descriptor.digest]}}
    return Image.build(config, [Layer(blob, blob.descriptor.digest)], annotations)


def tiny_index(archs=("amd64",), annotations=None, per_image=False):
    """An index of one tiny image per architecture (annotated {"per": arch} when `per_image`)."""
    images = [tiny_image(arch, f"layer-{arch}".encode(), {"per": arch} if per_image else None) for arch in archs]
    return Index.build(images, annotations)


def empty_image(arch="amd64", layers=()):
    """An image of `layers` (none by default) whose config lists no diff IDs of its own."""
    return Image.build({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}},
                       list(layers))


def history_layer(data: bytes):
    """A layer whose history entry says it was created by `data`."""
    blob = BytesBlob("application/vnd.oci.image.layer.v1.tar+gzip", data)
    return Layer(blob, blob.descriptor.digest, {"created_by": data.decode()})
