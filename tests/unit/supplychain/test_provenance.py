"""SLSA provenance: the builder from the CI environment, times from SOURCE_DATE_EPOCH when set, the source
as a valid URI and never a modified checkout as its commit, nothing that depends on where pyko ran."""
import pytest

from pyko.inventory import GoRecipe, Lockfile, Recipe
from pyko.supplychain import provenance


def _facts(**changes):
    facts = {"source_dir": "", "name": "reg.io/app", "tags": ("v1",), "base": "pyko://static",
                 "base_identity": ("pyko://static", "sha256:" + "1" * 64), "platforms": ("linux/amd64",),
                 "binaries": (("app", GoRecipe("go", "go1.27.3", flags=("-v",))),),
                 "started": 1800000000.7, "finished": 1800000100.2}
    facts.update(changes)
    return provenance.BuildFacts(**facts)


def test_builders_from_the_ci_environment():
    github = {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW_REF": "acme/api/.github/workflows/ci.yml@refs/heads/main",
              "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "42",
              "GITHUB_RUN_ATTEMPT": "2"}
    assert provenance.builder(github) == ("https://github.com/acme/api/.github/workflows/ci.yml@refs/heads/main",
                                          "https://github.com/acme/api/actions/runs/42/attempts/2")
    gitlab = {"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com", "CI_PROJECT_PATH": "g/p",
              "CI_RUNNER_ID": "7", "CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/9"}
    assert provenance.builder(gitlab) == ("https://gitlab.example.com/g/p/-/runners/7",
                                          "https://gitlab.example.com/g/p/-/jobs/9")
    assert provenance.builder({}) == (provenance.LOCAL_BUILDER, "")


def test_times_come_from_the_epoch_when_it_is_set():
    fixed = provenance.predicate(_facts(), {}, 1700000000)
    assert fixed["runDetails"]["metadata"] == {"startedOn": "2023-11-14T22:13:20Z",
                                               "finishedOn": "2023-11-14T22:13:20Z"}
    assert fixed == provenance.predicate(_facts(started=1.0, finished=2.0), {}, 1700000000)
    live = provenance.predicate(_facts(), {}, None)["runDetails"]["metadata"]
    assert live == {"startedOn": "2027-01-15T08:00:00Z", "finishedOn": "2027-01-15T08:01:40Z"}
    definition = fixed["buildDefinition"]
    assert definition["buildType"] == provenance.BUILD_TYPE
    assert definition["externalParameters"]["binaries"] == [
        {"name": "app", "flags": ["-v"], "ldflags": [], "env": [], "added": [],
         "environment": {"values": {}, "names": []}}]
    assert {"name": "base", "uri": "pyko://static", "digest": {"sha256": "1" * 64}} in \
        definition["resolvedDependencies"]
    assert provenance.epoch_if_set({}, 0) is None and provenance.epoch_if_set({"SOURCE_DATE_EPOCH": "5"}, 5) == 5


def _git(path, *args):
    import subprocess

    return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, text=True).stdout.strip()


def _repository(tmp_path, remote="https://git.example/acme/app.git"):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "main.go").write_text("package main\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "one")
    if remote:
        _git(repo, "remote", "add", "origin", remote)
    return repo


def _fresh():
    from pyko.util import vcs

    vcs.git_values.cache_clear()
    vcs.source_of.cache_clear()


def _source(predicate):
    return next(d for d in predicate["buildDefinition"]["resolvedDependencies"] if d.get("name") == "source")


def _validator():
    """The SLSA v1 schema with format checking, and proof that `uri` really is checked (jsonschema
    skips a format silently when no checker for it is installed: rfc3987 provides it)."""
    import json
    import os

    from jsonschema import Draft202012Validator, FormatChecker

    from oci_tools import REPO

    checker = FormatChecker()
    assert "uri" in checker.checkers and not checker.conforms("git", "uri") and not checker.conforms("git+/p", "uri")
    schema = json.load(open(os.path.join(REPO, "tests", "helpers", "slsa_provenance_v1.schema.json")))
    return Draft202012Validator(schema, format_checker=checker)


def test_a_clean_checkout_is_its_commit_and_a_modified_one_is_not(tmp_path):
    repo = _repository(tmp_path)
    _fresh()
    commit = _git(repo, "rev-parse", "HEAD")
    clean = provenance.predicate(_facts(source_dir=str(repo / "app")), {}, 0)
    assert _source(clean) == {"name": "source", "digest": {"gitCommit": commit},
                              "uri": f"git+https://git.example/acme/app.git@{commit}"}
    _validator().validate({"_type": "https://in-toto.io/Statement/v1", "predicateType": provenance.PREDICATE_TYPE,
                           "subject": [{"name": "x", "digest": {"sha256": "1" * 64}}], "predicate": clean})
    (repo / "app" / "main.go").write_text("package main\n// changed\n")
    _fresh()
    dirty = _source(provenance.predicate(_facts(source_dir=str(repo / "app")), {}, 0))
    assert "gitCommit" not in dirty["digest"] and len(dirty["digest"]["sha256"]) == 64
    assert dirty["annotations"]["dirty"] is True and dirty["annotations"]["headCommit"] == commit
    assert dirty["uri"] == "git+https://git.example/acme/app.git"   # no @commit: it is not that commit
    (repo / "app" / "new.go").write_text("package main\n")
    _fresh()
    more = _source(provenance.predicate(_facts(source_dir=str(repo / "app")), {}, 0))
    assert more["digest"] != dirty["digest"]                        # an untracked file changes it too


def test_the_source_does_not_depend_on_where_pyko_ran(tmp_path, monkeypatch):
    repo = _repository(tmp_path, remote="")
    _fresh()
    monkeypatch.chdir(repo)
    from_root = provenance.predicate(_facts(source_dir="app"), {}, 0)
    monkeypatch.chdir(repo / "app")
    from_app = provenance.predicate(_facts(source_dir="."), {}, 0)
    assert from_root == from_app
    assert from_root["buildDefinition"]["externalParameters"]["source"] == "app"
    assert "uri" not in _source(from_root)  # no remote: the commit alone, never an invalid URI
    outside = tmp_path / "outside" / "svc"
    outside.mkdir(parents=True)
    assert provenance.source_parameter(str(outside)) == "svc"


@pytest.mark.parametrize("remote, uri", [
    ("https://git.example/acme/app.git", "git+https://git.example/acme/app.git@c0ffee"),
    ("git@github.com:acme/app.git", "git+ssh://git@github.com/acme/app.git@c0ffee"),
    ("/srv/git/app.git", "git+file:///srv/git/app.git@c0ffee"),
    ("/srv/git/my app", "git+file:///srv/git/my%20app@c0ffee"),
])
def test_every_remote_becomes_a_valid_uri(remote, uri):
    assert provenance.git_uri(remote, "c0ffee") == uri
    from jsonschema import FormatChecker

    assert FormatChecker().conforms(uri, "uri")


def test_lockfiles_and_the_builders_version():
    facts = _facts(binaries=(("app", Recipe("go", "go1.27.3", (Lockfile("go.sum", "ab" * 32),))),))
    predicate = provenance.predicate(facts, {}, 0)
    assert {"name": "go.sum", "digest": {"sha256": "ab" * 32}} in predicate["buildDefinition"]["resolvedDependencies"]
    assert predicate["buildDefinition"]["externalParameters"]["binaries"] == [{"name": "app"}]
    assert predicate["runDetails"]["builder"]["version"] == {"pyko": __import__("pyko").__version__}
