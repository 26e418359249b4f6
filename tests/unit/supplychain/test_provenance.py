"""SLSA provenance: the builder from the CI environment, times from SOURCE_DATE_EPOCH when set."""
from pyko.supplychain import provenance


def _facts(**changes):
    facts = {"source_dir": "", "name": "reg.io/app", "tags": ("v1",), "base": "pyko://static",
                 "base_identity": ("pyko://static", "sha256:" + "1" * 64), "platforms": ("linux/amd64",),
                 "binaries": (("app", {"toolchain": {"name": "go", "version": "go1.27.3"}, "flags": ["-v"]}),),
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
    assert definition["externalParameters"]["binaries"] == [{"name": "app", "flags": ["-v"]}]
    assert {"name": "base", "uri": "pyko://static", "digest": {"sha256": "1" * 64}} in \
        definition["resolvedDependencies"]
    assert provenance.epoch_if_set({}, 0) is None and provenance.epoch_if_set({"SOURCE_DATE_EPOCH": "5"}, 5) == 5
