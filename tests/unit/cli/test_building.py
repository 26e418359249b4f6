"""cli/building.py: `pyko build` end to end in-process on a prebuilt binary; the lines of
--image-refs and --json; --binary's syntax."""
import json

import pytest

from pyko.cli.building import image_refs, split_binary

from elf_headers import static_binary_for


@pytest.fixture
def binary(tmp_path):
    path = tmp_path / "tool"
    path.write_bytes(static_binary_for("linux/amd64"))
    return str(path)


def test_build_prints_the_reference_and_writes_image_refs(run_pyko, tmp_path, binary):
    refs = tmp_path / "refs.txt"
    code, out, err = run_pyko("build", "--binary", f"linux/amd64={binary}", "--name", "tool", "-t", "v1",
                              "--oci-layout", str(tmp_path / "layout"), "--image-refs", str(refs))
    assert code == 0, err
    reference = out.strip()
    assert reference.startswith("tool:v1@sha256:")
    lines = refs.read_text().splitlines()
    assert lines[0] == reference and len(lines) == 2  # the index, then its one platform


def test_json_describes_the_outputs(run_pyko, tmp_path, binary):
    code, out, err = run_pyko("build", "--binary", f"linux/amd64={binary}", "--name", "tool", "--json",
                              "--oci-layout", str(tmp_path / "layout"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["name"] == "tool" and doc["platforms"][0]["platform"] == "linux/amd64"
    assert doc["outputs"] == [{"kind": "oci-layout", "location": str(tmp_path / "layout")}]
    assert doc["reference"].endswith(doc["digest"])


def test_a_bad_binary_flag_is_a_usage_error(run_pyko):
    code, _, err = run_pyko("build", "--binary", "linux/amd64", "--name", "x", "--oci-layout", "out")
    assert code == 2 and "must look like linux/amd64=./path/to/binary" in err


def test_split_binary():
    assert split_binary("linux/arm/v7=./a=b") == ("linux/arm/v7", "./a=b")


def test_image_refs_of_a_tag_only_build_is_its_tag():
    class Built:
        tag_only, reference = True, "reg.io/app:v1"

    assert image_refs(Built()) == ["reg.io/app:v1"]


def test_kos_comma_syntax_gives_several_tags_and_labels(run_pyko, tmp_path, binary):
    layout = tmp_path / "layout"
    code, out, err = run_pyko("build", "--binary", f"linux/amd64={binary}", "--name", "tool", "--json",
                              "-t", "v1,v1.2", "--image-label", "a=1,b=2", "--oci-layout", str(layout))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["tags"] == ["v1", "v1.2"]
    index = json.loads((layout / "index.json").read_text())
    manifests = [m for m in index["manifests"] if m["digest"] == doc["digest"]]
    blobs = layout / "blobs" / "sha256"
    image_index = json.loads((blobs / doc["digest"].split(":")[1]).read_text()) if manifests else None
    manifest = json.loads((blobs / image_index["manifests"][0]["digest"].split(":")[1]).read_text())
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_text())
    assert {"a": "1", "b": "2"}.items() <= config["config"]["Labels"].items()
    assert config["config"]["Cmd"] == ["/ko-app/tool"] and not config["config"].get("Entrypoint")


def test_kos_flags_that_pyko_does_not_have_are_refused_by_name(run_pyko, binary):
    code, _, err = run_pyko("build", "--binary", f"linux/amd64={binary}", "--name", "tool", "--debug",
                            "--push=false")
    assert code == 2 and "--debug" in err and "--disable-optimizations" in err


class _Reads(dict):
    """A command's keyword arguments that remember which were read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("name", ["build", "resolve", "apply", "create"])
def test_every_option_of_a_building_command_reaches_the_plan(name):
    """Each option click gives flags_from is read by it (or is one the CLI itself reads): an option
    renamed or added without wiring fails here, instead of being silently dropped."""
    from pyko.cli.app import cli
    from pyko.cli.building import NOT_FLAGS, flags_from

    command = cli.commands[name]
    args = ["-f", "x.yaml"] if name != "build" else []
    params = command.make_context(name, args).params
    options = _Reads({k: v for k, v in params.items() if k != "paths"})
    flags_from(params.get("paths", ()), options)
    assert sorted(set(options) - options.read - NOT_FLAGS) == []


def test_flags_from_sets_every_field_of_flags_by_name():
    """flags_from names each plan.Flags field in its one Flags(...) call: none keeps its default unseen."""
    import ast
    import dataclasses
    import inspect

    from pyko.cli import building
    from pyko.plan.resolve import Flags

    tree = ast.parse(inspect.getsource(building.flags_from))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "Flags"]
    assert len(calls) == 1
    assert sorted(k.arg for k in calls[0].keywords) == sorted(f.name for f in dataclasses.fields(Flags))
