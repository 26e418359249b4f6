"""Hostile inputs, second round, through the real CLI: each bounded in CPU time and peak memory
(measured of the pyko process, not timed against the wall clock), each ended by one clear
`pyko: error:` line (or, for the YAML bomb, by doing the work at the cost of its size), and
none touching a file outside what pyko was given."""
import json
import os
import shutil

from hostile import FakeRegistry, link_fan_out, run_costed
from oci_tools import assert_clean_error, pyko

#: A Python process running pyko takes 30-60 MiB; "a few tens of MB beyond" is the bound.
PEAK_MIB = 120
CPU_SECONDS = 10


def _laughs(depth=9, fan=9):
    lines = ['a0: &a0 "lol"']
    for level in range(1, depth + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join(f"*a{level - 1}" for _ in range(fan)) + "]")
    return "\n".join(lines) + "\n"


def test_a_600_byte_alias_bomb_is_resolved_at_the_cost_of_its_size(session_env, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_laughs())
    assert bomb.stat().st_size < 700
    proc, peak, cpu = run_costed(["resolve", "-f", str(bomb), "--repo", "127.0.0.1:1/t"], session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == bomb.read_text()  # no reference in it: the YAML comes back as it was
    assert cpu < CPU_SECONDS and peak < PEAK_MIB


def test_kodata_link_fan_out_is_one_error_naming_the_link(session_env, hello_src, tmp_path):
    src = tmp_path / "app"
    shutil.copytree(hello_src, src)
    link_fan_out(src / "kodata")
    layout = tmp_path / "out"
    proc, peak, cpu = run_costed(["build", str(src), "--oci-layout", str(layout)], session_env)
    assert_clean_error(proc, "kodata/l1/s0 is a symlink to", "already packs")
    assert proc.returncode == 1 and not layout.exists()
    assert cpu < CPU_SECONDS + 30 and peak < PEAK_MIB  # the CPU includes `go list`; the walk is linear


def test_a_layout_with_a_linked_blob_directory_is_refused_and_nothing_outside_changes(session_env, hello_src,
                                                                                      tmp_path):
    layout = tmp_path / "layout"
    first = pyko("build", hello_src, "--oci-layout", str(layout), env=session_env)
    assert first.returncode == 0, first.stderr
    elsewhere = tmp_path / "elsewhere"
    (layout / "blobs" / "sha256").rename(elsewhere)
    (layout / "blobs" / "sha256").symlink_to(elsewhere)
    (elsewhere / ".hello-go.1.tmp").write_text("not pyko's")
    before = {p.name: p.stat().st_mtime_ns for p in elsewhere.iterdir()}
    proc = pyko("build", hello_src, "--oci-layout", str(layout), "-t", "v2", env=session_env)
    assert_clean_error(proc, "blobs/sha256 is a symlink; pyko writes only inside the layout")
    assert proc.returncode == 1
    assert {p.name: p.stat().st_mtime_ns for p in elsewhere.iterdir()} == before


def test_a_fifo_key_is_refused_at_once(session_env, tmp_path):
    fifo = tmp_path / "cosign.key"
    os.mkfifo(fifo)
    proc, peak, cpu = run_costed(["sign", "--key", str(fifo), "--oci-layout", str(tmp_path), "app:latest"],
                                 session_env, timeout=20)
    assert_clean_error(proc, "is not a regular file")
    assert cpu < CPU_SECONDS


def test_a_200_mb_key_file_is_not_read_whole(session_env, tmp_path):
    big = tmp_path / "cosign.key"
    with open(big, "wb") as f:
        f.truncate(200 << 20)
    proc, peak, cpu = run_costed(["sign", "--key", str(big), "--oci-layout", str(tmp_path), "app:latest"],
                                 session_env)
    assert_clean_error(proc, "is larger than 65536 bytes")
    assert peak < PEAK_MIB and cpu < CPU_SECONDS


def _signed_image_with_repeated_referrers(fake, times):
    """An image whose fallback referrers index lists one (broken) bundle `times` times."""
    layer = fake.blob("app", b"layer")
    config = fake.blob("app", json.dumps({"architecture": "amd64", "os": "linux",
                                          "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
    image = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
             "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")]}
    digest = fake.manifest("app", "latest", image)
    bundle = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
              "digest": "sha256:" + "e" * 64, "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}
    fake.manifest("app", digest.replace(":", "-"), {"schemaVersion": 2,
                                                     "mediaType": "application/vnd.oci.image.index.v1+json",
                                                     "manifests": [bundle] * times},
                  "application/vnd.oci.image.index.v1+json")
    return digest


def test_a_referrer_listed_2000_times_costs_a_few_requests(session_env, tmp_path):
    fake = FakeRegistry()
    try:
        digest = _signed_image_with_repeated_referrers(fake, 2000)
        key = tmp_path / "cosign.pub"
        gen = pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "cosign"),
                   env={**session_env, "COSIGN_PASSWORD": ""})
        assert gen.returncode == 0, gen.stderr
        proc, peak, cpu = run_costed(["verify", "--key", str(key), f"{fake.host}/app@{digest}"], session_env)
        assert_clean_error(proc)  # the one bundle it names is not there
        assert len(fake.seen) < 20, [s.path for s in fake.seen]  # was 4,003 requests and 3 minutes
        assert cpu < CPU_SECONDS
    finally:
        fake.close()
