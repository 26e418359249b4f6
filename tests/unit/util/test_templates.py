"""util/templates.py: ko's template data (.Env, .GoEnv, .Git, .Date, .Timestamp) with ko's types,
evaluated as Go's text/template, and one clear usage error naming the template."""
import subprocess

import pytest

from pyko.errors import UsageError
from pyko.util import vcs
from pyko.util.templates import expand, expand_one


def test_env_date_and_timestamp():
    env = {"VERSION": "1.2"}
    assert expand(["-X main.v={{.Env.VERSION}}", "{{ .Date }}", "{{.Timestamp}}", "plain"], env, ".", 86400) == \
        ("-X main.v=1.2", "1970-01-02T00:00:00Z", "86400", "plain")
    assert expand_one("{{.Env.LDFLAGS}}", {}, ".", 0) == ""  # ko's LDFLAGS is always defined


def test_logic_and_functions_as_in_ko_projects():
    env = {"VERSION": "1.2"}
    ld = '{{ if index .Env "LD_FLAGS" }}{{ .Env.LD_FLAGS }}{{ else }}-s -w{{ end }}'
    assert expand_one(ld, env, ".", 0) == "-s -w"
    assert expand_one(ld, {**env, "LD_FLAGS": "-X a=b"}, ".", 0) == "-X a=b"
    assert expand_one('{{ printf "%s-%d" .Env.VERSION .Timestamp }}', env, ".", 7) == "1.2-7"
    assert expand_one("{{ .Env.VERSION | len }}", env, ".", 0) == "3"


def test_go_env_is_read_only_when_a_template_uses_it():
    asked = []

    def go_env():
        asked.append(1)
        return {"GOARCH": "arm64", "GOOS": "linux"}

    assert expand_one("{{.Env.X}}", {"X": "x"}, ".", 0, go_env) == "x"
    assert not asked
    assert expand_one("{{.GoEnv.GOARCH}}/{{.GoEnv.GOOS}}", {}, ".", 0, go_env) == "arm64/linux"
    assert len(asked) == 1                      # once per expansion, however many fields it reads
    with pytest.raises(UsageError, match='map has no entry for key "GoEnv"'):
        expand_one("{{.GoEnv.GOARCH}}", {}, ".", 0)     # outside a Go build


def _repo(path):
    git = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q", "-b", "trunk")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
    vcs.ko_git_info.cache_clear()
    return git


def test_git_fields_come_from_the_checkout_with_kos_types(tmp_path):
    git = _repo(tmp_path)
    head = git("rev-parse", "HEAD").stdout.strip()
    short = git("show", "--format=%h", "-s", "HEAD").stdout.strip()
    where = str(tmp_path)
    assert expand_one("{{.Git.FullCommit}} {{.Git.ShortCommit}} {{.Git.Branch}}", {}, where, 0) == \
        f"{head} {short} trunk"
    assert expand_one("{{.Git.Tag}}", {}, where, 0) == "v0.0.0"           # no tag: ko's v0.0.0
    assert expand_one("{{if .Git.IsDirty}}dirty{{else}}{{.Git.TreeState}}{{end}}", {}, where, 0) == "clean"
    assert expand_one("{{gt .Git.CommitTimestamp 0}}", {}, where, 0) == "true"   # an integer, not a string
    git("tag", "v1.0.0")
    (tmp_path / "new").write_text("x")
    vcs.ko_git_info.cache_clear()
    assert expand_one("{{.Git.Tag}} {{.Git.IsDirty}} {{.Git.TreeState}}", {}, where, 0) == "v1.0.0 true dirty"


def test_git_outside_a_checkout_gives_kos_empty_values(tmp_path):
    vcs.ko_git_info.cache_clear()
    assert expand_one("[{{.Git.ShortCommit}}] {{.Git.CommitDate}} {{.Git.IsClean}}", {}, str(tmp_path), 0) == \
        "[] 0001-01-01T00:00:00Z true"


@pytest.mark.parametrize("text, says", [
    ("{{.Env.MISSING}}", 'line 1, column 3 .*map has no entry for key "MISSING"'),
    ("{{.Nope.X}}", 'map has no entry for key "Nope"'),
    ("{{ nosuch .Env.X }}", 'function "nosuch" not defined'),
    ("{{.Date.Year}}", "can't evaluate field Year in type string"),
    ("-X a={{ if .Env.A }}", "unexpected EOF"),
])
def test_what_go_refuses_is_one_usage_error_naming_the_template(text, says):
    with pytest.raises(UsageError, match=says) as caught:
        expand_one(text, {"A": "a"}, ".", 0)
    assert repr(text) in str(caught.value)
