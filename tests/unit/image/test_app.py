"""The app image recipe: base + layers, configured to run the binary as nonroot."""
from pyko.image import Image
from pyko.image.app import AppSpec, ImageSettings, app_image, binary_layer
from pyko.image.layer import file_entry, write_layer
from pyko.image.layer_cache import LayerCache


def _base(tmp_path, env):
    layer = write_layer([file_entry("/etc/base", data=b"base")], str(tmp_path / "base"))
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": env, "Cmd": ["/bin/sh"], "User": "0"},
              "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}, "history": [{"created_by": "base"}]}
    return Image.build(config, [layer])


def test_app_image_runs_the_binary_as_nonroot(tmp_path):
    binary = tmp_path / "app"
    binary.write_bytes(b"\x7fELF not really")
    spec = AppSpec("app", ImageSettings(epoch=1700000000))
    layer = binary_layer(str(binary), spec, LayerCache(str(tmp_path / "cache")))
    image = app_image(_base(tmp_path, ["PATH=/usr/bin:/bin", "TZ=UTC"]), [layer], spec, False,
                      {"org.opencontainers.image.base.name": "b"})
    config = image.config_json()
    assert config["config"]["Cmd"] == ["/ko-app/app"] and config["config"]["User"] == "65532"
    assert "PATH=/usr/bin:/bin:/ko-app" in config["config"]["Env"] and "TZ=UTC" in config["config"]["Env"]
    assert "KO_DATA_PATH=/var/run/ko" not in config["config"]["Env"]
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert [h.get("created_by") for h in config["history"]] == ["base", "pyko build app"]
    assert len(image.layers) == 2 and image.layers[1] == layer
    assert '"org.opencontainers.image.base.name":"b"' in image.manifest.data.decode()


def test_entrypoint_style_and_kodata_env(tmp_path):
    binary = tmp_path / "app"
    binary.write_bytes(b"x")
    spec = AppSpec("app", ImageSettings(entrypoint=True, user="1000"))
    layer = binary_layer(str(binary), spec, LayerCache(str(tmp_path / "cache")))
    config = app_image(_base(tmp_path, []), [layer], spec, True).config_json()["config"]
    assert config["Entrypoint"] == ["/ko-app/app"] and "Cmd" not in config and config["User"] == "1000"
    assert "KO_DATA_PATH=/var/run/ko" in config["Env"]
    assert any(e.startswith("PATH=") and e.endswith(":/ko-app") for e in config["Env"])
