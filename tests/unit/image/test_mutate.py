"""image/mutate.py: pure changes to images; the input image is never touched."""
from pyko.image.mutate import append_layers, edit_config

from tiny_images import empty_image, history_layer


def test_mutations_return_new_images_and_leave_the_old_ones_as_they_were():
    base = empty_image("amd64")
    top = append_layers(base, [history_layer(b"app")])
    assert base.config_json()["rootfs"]["diff_ids"] == [] and top.config_json()["rootfs"]["diff_ids"] == \
        [top.layers[0].diff_id]
    assert top.config_json()["history"] == [{"created_by": "app"}]
    edited = edit_config(top, lambda config: config.setdefault("config", {}).update(User="65532"))
    assert edited.config_json()["config"]["User"] == "65532" and "config" not in top.config_json()
    assert edited.layers == top.layers and edited.digest != top.digest
