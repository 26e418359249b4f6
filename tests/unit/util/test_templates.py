"""util/templates.py: ko's template fields, and one clear error for anything else."""
import subprocess

import pytest

from pyko.errors import UsageError
from pyko.util.templates import expand, expand_one


def test_env_date_and_timestamp():
    env = {"VERSION": "1.2"}
    assert expand(["-X main.v={{.Env.VERSION}}", "{{ .Date }}", "{{.Timestamp}}", "plain"], env, ".", 86400) == \
        ("-X main.v=1.2", "1970-01-02T00:00:00Z", "86400", "plain")
    assert expand_one("{{.Env.LDFLAGS}}", {}, ".", 0) == ""  # ko's LDFLAGS is always defined


def test_git_fields_come_from_the_checkout(tmp_path):
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
    head = git("rev-parse", "HEAD").stdout.strip()
    assert expand_one("{{.Git.FullCommit}}", {}, str(tmp_path), 0) == head
    assert expand_one("{{.Git.ShortCommit}}", {}, str(tmp_path), 0) == head[:7]


@pytest.mark.parametrize("text, says", [
    ("{{.Env.MISSING}}", "no Env value named MISSING"),
    ("{{.Nope.X}}", "unsupported template"),
    ("{{ printf \"%s\" .Env.X }}", "unsupported template"),
    ("{{.Date.Year}}", "unsupported template"),
])
def test_what_is_not_supported_or_missing_is_one_usage_error(text, says):
    with pytest.raises(UsageError, match=says):
        expand_one(text, {}, ".", 0)


def test_git_outside_a_checkout_says_so(tmp_path):
    with pytest.raises(UsageError, match="not in a git checkout"):
        expand_one("{{.Git.ShortCommit}}", {}, str(tmp_path), 0)
