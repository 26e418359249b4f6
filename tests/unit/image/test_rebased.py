"""Rebasing, pure: the base's share replaced, the app's kept, a foreign bottom refused."""
import pytest

from pyko.image import BytesBlob, Layer, mediatypes
from pyko.image.image import Image
from pyko.image.rebased import RebaseError, rebase, rebased_env, rebased_labels


def _layer(data: bytes) -> Layer:
    blob = BytesBlob(mediatypes.OCI_LAYER_GZIP, data)
    return Layer(blob, blob.descriptor.digest)


def _image(layers, env, labels=None, history=None):
    config = {"architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
              "history": history or [{"created_by": "x"}] * len(layers),
              "config": {"Env": env, **({"Labels": labels} if labels else {})}}
    return Image.build(config, layers)


def test_env_takes_the_new_bases_share_and_keeps_the_apps():
    old = ["PATH=/bin", "SSL_CERT_FILE=/old.pem", "TZ=UTC"]
    new = ["PATH=/usr/bin:/bin", "SSL_CERT_FILE=/new.pem", "LANG=C"]
    app = ["PATH=/bin:/ko-app", "SSL_CERT_FILE=/old.pem", "TZ=Europe/Berlin", "MODE=prod"]
    # The base's entries in its order, the app's changes in place, then the app's own, in the app's order
    # (as a build writes them).
    assert rebased_env(app, old, new) == ["PATH=/usr/bin:/bin:/ko-app", "SSL_CERT_FILE=/new.pem", "LANG=C",
                                          "TZ=Europe/Berlin", "MODE=prod"]
    assert rebased_env(["PATH=/bin:/ko-app"], ["PATH=/bin"], ["PATH=/bin:/ko-app"]) == ["PATH=/bin:/ko-app"]
    assert rebased_labels({"vendor": "old", "team": "app"}, {"vendor": "old"}, {"vendor": "new"}) == \
        {"team": "app", "vendor": "new"}


def test_rebasing_onto_the_same_base_keeps_the_env_as_it_is():
    from pyko.image.app import AppSpec, ImageSettings, _env

    base = ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "TZ=UTC"]
    built = _env(list(base), AppSpec("app", ImageSettings(env=(("MODE", "prod"), ("TZ", "Europe/Berlin")))), True)
    # set in place, as docker's ENV and ko's PATH: the base's order, then what the app added
    assert built == ["PATH=/usr/local/bin:/usr/bin:/bin:/ko-app", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                     "TZ=Europe/Berlin", "MODE=prod", "KO_DATA_PATH=/var/run/ko"]
    assert rebased_env(built, base, base) == built


def test_layers_and_history_move_onto_the_new_base():
    old_base = _image([_layer(b"old")], ["PATH=/bin"], history=[{"created_by": "old"}])
    new_base = _image([_layer(b"new1"), _layer(b"new2")], ["PATH=/usr/bin"],
                      history=[{"created_by": "n1"}, {"created_by": "n2"}])
    app_layer = _layer(b"app")
    app = _image([old_base.layers[0], app_layer], ["PATH=/bin:/ko-app"],
                 history=[{"created_by": "old"}, {"created_by": "pyko build app"}])
    moved = rebase(app, old_base, new_base, {"k": "v"}, "app")
    assert [layer.descriptor.digest for layer in moved.layers] == \
        [layer.descriptor.digest for layer in (*new_base.layers, app_layer)]
    config = moved.config_json()
    assert config["rootfs"]["diff_ids"] == [layer.diff_id for layer in moved.layers]
    assert [h["created_by"] for h in config["history"]] == ["n1", "n2", "pyko build app"]
    assert config["config"]["Env"] == ["PATH=/usr/bin:/ko-app"]
    with pytest.raises(RebaseError, match="bottom layers are not the old base's"):
        rebase(app, new_base, old_base, {}, "app")
