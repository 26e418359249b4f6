"""The built-in base's contents and stability (the e2e tests run programs on it)."""
import gzip
import io
import tarfile

from pyko.image.static_base import REFERENCE, static_base
from pyko.platforms import ALL_LINUX


def _tar(index):
    layer = index.images[0].layers[0]
    with open(layer.blob.path, "rb") as f:
        return tarfile.open(fileobj=io.BytesIO(gzip.decompress(f.read())))


def test_eight_platforms_one_shared_layer(tmp_path):
    index = static_base(str(tmp_path))
    assert [str(p) for p in index.platforms()] == list(ALL_LINUX)
    assert len({img.layers[0].descriptor.digest for img in index.images}) == 1
    cfg = index.images[1].config_json()
    assert cfg["architecture"] == "amd64" and cfg["config"]["User"] == "65532"
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in cfg["config"]["Env"]
    assert index.images[3].config_json()["variant"] == "v6"
    assert REFERENCE.startswith("pyko://")


def test_contents(tmp_path):
    tar = _tar(static_base(str(tmp_path)))
    by = {m.name: m for m in tar.getmembers()}
    passwd = tar.extractfile("etc/passwd").read().decode()
    assert "nonroot:x:65532:65532:" in passwd and passwd.startswith("root:x:0:0:")
    assert "nobody:x:65534:65534:" in passwd
    assert "nonroot:x:65532:" in tar.extractfile("etc/group").read().decode()
    assert "hosts: files dns" in tar.extractfile("etc/nsswitch.conf").read().decode()
    assert b"BEGIN CERTIFICATE" in tar.extractfile("etc/ssl/certs/ca-certificates.crt").read()
    assert by["etc/ssl/cert.pem"].issym() and by["etc/ssl/cert.pem"].linkname == "certs/ca-certificates.crt"
    assert tar.extractfile("usr/share/zoneinfo/Europe/Berlin").read().startswith(b"TZif")
    assert by["tmp"].mode == 0o1777
    assert (by["home/nonroot"].mode, by["home/nonroot"].uid, by["home/nonroot"].gid) == (0o700, 65532, 65532)
    assert by["root"].mode == 0o700
    assert not any(n.endswith((".py", ".pyc")) or "__" in n for n in by)
    assert not any(m.ischr() or m.isblk() for m in by.values())  # no device nodes


def test_same_digest_from_a_cold_and_a_warm_cache(tmp_path):
    cold = static_base(str(tmp_path / "a"))
    warm = static_base(str(tmp_path / "a"))
    other = static_base(str(tmp_path / "b"))
    assert cold.digest == warm.digest == other.digest
