"""Image metadata: precedence, merging, removal, templates, VCS annotations, and every bad value."""
import subprocess

import pytest

from pyko.errors import UsageError
from pyko.plan.config import ImageMetadata
from pyko.plan.metadata import CREATED, REVISION, SOURCE, exposed_port, key_values, resolve_image


def _resolve(flags=ImageMetadata(), defaults=ImageMetadata(), entry=ImageMetadata(), source_dir="", env=None,
             epoch=0):
    return resolve_image(flags, defaults, entry, source_dir, env or {}, epoch)


def test_maps_merge_by_key_and_the_most_specific_level_wins():
    settings = _resolve(
        flags=ImageMetadata(labels={"team": "flag"}, env={"MODE": "flag"}),
        defaults=ImageMetadata(labels={"team": "default", "tier": "web"}, env={"MODE": "d", "KEEP": "1"}),
        entry=ImageMetadata(labels={"tier": "api"}, env={"EXTRA": "e"}),
    )
    assert settings.labels == (("team", "flag"), ("tier", "api"))
    assert dict(settings.env) == {"MODE": "flag", "KEEP": "1", "EXTRA": "e"}


def test_lists_and_single_values_replace():
    settings = _resolve(defaults=ImageMetadata(args=("--a",), exposed_ports=("80",), working_dir="/d", user="1"),
                        entry=ImageMetadata(args=(), exposed_ports=("8080", "53/udp", "8080/TCP")))
    assert settings.args == () and settings.exposed_ports == ("8080/tcp", "53/udp")
    assert settings.working_dir == "/d" and settings.user == "1"
    flagged = _resolve(ImageMetadata(args=("serve",), working_dir="/w", user="nobody"),
                       defaults=ImageMetadata(args=("--a",), working_dir="/d"))
    assert (flagged.args, flagged.working_dir, flagged.user) == (("serve",), "/w", "nobody")


def test_templates_expand_in_values(tmp_path):
    settings = _resolve(ImageMetadata(labels={"v": "{{.Env.VERSION}}"}, annotations={"built": "{{.Date}}"},
                                   env={"AT": "{{.Timestamp}}"}), env={"VERSION": "1.2"}, epoch=86400)
    assert settings.labels == (("v", "1.2"),) and settings.annotations == (("built", "1970-01-02T00:00:00Z"),)
    assert settings.env == (("AT", "86400"),)


def _git_repo(path, remote):
    run = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
    run("remote", "add", "origin", remote)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()


def test_vcs_annotations_by_default_and_an_empty_value_removes_one(tmp_path):
    commit = _git_repo(tmp_path, "https://ci:s3cret@git.example.com/team/app.git?x=1")
    settings = _resolve(source_dir=str(tmp_path), epoch=1700000000)
    assert dict(settings.annotations) == {REVISION: commit, SOURCE: "https://git.example.com/team/app.git",
                                          CREATED: "2023-11-14T22:13:20Z"}
    overridden = _resolve(ImageMetadata(annotations={SOURCE: "", CREATED: "x"}), source_dir=str(tmp_path))
    assert dict(overridden.annotations) == {REVISION: commit, CREATED: "x"}
    assert _resolve(source_dir=str(tmp_path / "..")).annotations == ()  # outside a checkout: none


@pytest.mark.parametrize("flags, needle", [
    (ImageMetadata(env={"1BAD": "x"}), "is not a variable name"),
    (ImageMetadata(env={"OK": "a\nb"}), "control characters"),
    (ImageMetadata(working_dir="relative"), "must be an absolute path"),
    (ImageMetadata(exposed_ports=("http",)), "must look like 8080"),
    (ImageMetadata(exposed_ports=("70000",)), "must look like 8080"),
    (ImageMetadata(exposed_ports=("80/icmp",)), "must look like 8080"),
    (ImageMetadata(labels={"a\tb": "x"}), "is not a valid key"),
    (ImageMetadata(user="a\x1bb"), "control characters"),
    (ImageMetadata(labels={"x": "{{.Env.MISSING}}"}), 'no entry for key "MISSING"'),
])
def test_bad_values_are_one_error(flags, needle):
    with pytest.raises(UsageError, match=needle):
        _resolve(flags)


def test_flag_pairs():
    assert key_values(["a=b", "c=", "d=e=f"], "--x") == (("a", "b"), ("c", ""), ("d", "e=f"))
    with pytest.raises(UsageError, match="must look like key=value"):
        key_values(["novalue"], "--image-label")
    assert exposed_port(" 443/TCP ") == "443/tcp"


def test_comma_separated_splits_as_kos_string_lists_do():
    from pyko.plan.metadata import comma_separated

    assert comma_separated(["v1,v1.2", "latest"]) == ("v1", "v1.2", "latest")
    assert comma_separated(["a=1,b=2"]) == ("a=1", "b=2")
    assert comma_separated(['"k=x,y",z=1']) == ("k=x,y", "z=1")   # pflag reads each value as a CSV record
    assert comma_separated([]) == () and comma_separated([""]) == ()
