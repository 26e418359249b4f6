"""toolchains/cargo_files.py: cargo's files found upwards; a broken one is no answer, not a crash."""
import os

from pyko.toolchains.cargo_files import read_toml, upwards


def test_upwards_resolves_and_ends_at_the_root(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(deep)
    seen = list(upwards(str(link)))
    assert seen[0] == os.path.realpath(deep) and seen[1] == os.path.realpath(tmp_path / "a") and seen[-1] == "/"


def test_read_toml_reads_parses_and_gives_up_quietly(tmp_path):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('[target.x]\nlinker = "cc"\n')
    bad.write_bytes(b"[target\xff")
    assert read_toml(str(good), 1000) == {"target": {"x": {"linker": "cc"}}}
    assert read_toml(str(bad), 1000) is None and read_toml(str(tmp_path / "absent"), 1000) is None
    assert read_toml(str(good), 9) is None  # cut at the limit: not a document
