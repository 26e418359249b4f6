"""Image metadata from flags and config, VCS annotations, names, --image-refs, --json and
--tag-only, checked with skopeo against the real registry, and the image run."""
import json
import os
import shutil
import subprocess

import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, skopeo_config, skopeo_raw, unpack_and_run

EPOCH = "1700000000"


def _git_checkout(src, dest, remote):
    shutil.copytree(src, dest)
    git = lambda *a: subprocess.run(["git", *a], cwd=dest, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "-m", "first")
    git("remote", "add", "origin", remote)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def checkout(hello_src, tmp_path):
    dest = tmp_path / "repo"
    commit = _git_checkout(hello_src, dest, "https://ci-bot:ghp_secret@git.example.com/team/hello.git")
    return str(dest), commit


def test_metadata_from_flags_and_config_lands_where_oci_puts_it(registry, checkout, session_env, tmp_path):
    need("skopeo", "umoci")
    src, commit = checkout
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / ".pyko.toml").write_text(f"""
labels = {{ team = "payments", tier = "default" }}
imageEnv = {{ APP_MODE = "from-defaults" }}
args = ["--default"]

[[builds]]
dir = "{src}"
labels = {{ tier = "api", version = "{{{{.Env.VERSION}}}}" }}
annotations = {{ "org.example.owner" = "team-{{{{.Git.ShortCommit}}}}" }}
imageEnv = {{ APP_MODE = "from-entry" }}
workingDir = "/tmp"
exposedPorts = ["8080", "9090/udp"]
""")
    env = dict(session_env, SOURCE_DATE_EPOCH=EPOCH, VERSION="1.2.3", PYKO_CONFIG=str(tmp_path / "conf"),
               GOFLAGS="-buildvcs=false")
    refs = tmp_path / "refs.txt"
    proc = pyko("build", "--platform", "linux/amd64,linux/arm64", "--repo", f"{registry.host}/meta",
                "--image-label", "extra=flag", "--image-annotation", "org.opencontainers.image.source=",
                "--cmd-arg", "serve", "--cmd-arg", "--port=8080", "-t", "v{{.Env.VERSION}}",
                "--image-refs", str(refs), "--json", cwd=src, env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    name = f"{registry.host}/meta/hello-go"  # the import path's last element, not the directory ("repo")
    assert result["name"] == name and result["tags"] == ["v1.2.3"]
    assert result["reference"] == f"{name}:v1.2.3@{result['digest']}"
    assert [p["platform"] for p in result["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert len(result["sboms"]) == 6 and result["outputs"] == [{"kind": "registry", "location": name}]
    # ko's --image-refs: the index, then each platform; repo:TAG@ since exactly one non-latest tag.
    assert refs.read_text().splitlines() == [f"{name}:v1.2.3@{result['digest']}"] + [
        f"{name}:v1.2.3@{p['digest']}" for p in result["platforms"]]

    index = skopeo_raw(f"docker://{registry.host}/meta/hello-go:v1.2.3")
    amd64 = result["platforms"][0]["digest"]
    manifest = skopeo_raw(f"docker://{registry.host}/meta/hello-go@{amd64}")
    for annotations in (index["annotations"], manifest["annotations"]):
        assert annotations["org.opencontainers.image.revision"] == commit
        assert annotations["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
        assert annotations["org.example.owner"] == f"team-{commit[:7]}"
        assert "org.opencontainers.image.source" not in annotations  # removed by the empty value
    config = skopeo_config(f"docker://{registry.host}/meta/hello-go@{amd64}")["config"]
    assert config["Labels"] == {"team": "payments", "tier": "api", "version": "1.2.3", "extra": "flag"}
    assert config["Cmd"] == ["/ko-app/hello-go", "serve", "--port=8080"]  # flags replace the config's args
    assert config["WorkingDir"] == "/tmp" and set(config["ExposedPorts"]) == {"8080/tcp", "9090/udp"}
    assert "APP_MODE=from-entry" in config["Env"] and config["User"] == "65532"

    need_root()
    layout = tmp_path / "copy"
    run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{name}:v1.2.3", f"oci:{layout}:app"])
    out = unpack_and_run(f"oci:{layout}:app", "amd64", str(tmp_path / "run"))
    assert 'args=["serve" "--port=8080"]' in out and "APP_MODE=from-entry" in out


def test_vcs_annotations_are_reproducible_and_carry_no_credentials(registry, checkout, session_env, tmp_path):
    need("skopeo")
    src, commit = checkout
    digests = []
    for n in range(2):  # separate pyko caches: the same commit gives the same digest
        env = dict(session_env, SOURCE_DATE_EPOCH=EPOCH, PYKO_CACHE_DIR=str(tmp_path / f"cache{n}"))
        proc = pyko("build", ".", "--repo", f"{registry.host}/vcs", "--sbom=none", "-q", cwd=src, env=env)
        assert proc.returncode == 0, proc.stderr
        digests.append(proc.stdout.strip().split("@")[1])
    assert digests[0] == digests[1]
    index = skopeo_raw(f"docker://{registry.host}/vcs/hello-go@{digests[0]}")
    assert index["annotations"]["org.opencontainers.image.source"] == "https://git.example.com/team/hello.git"
    assert "ghp_secret" not in json.dumps(index) and "ci-bot" not in json.dumps(index)
    assert index["annotations"]["org.opencontainers.image.revision"] == commit


def test_names_tag_only_and_preserve_import_paths(registry, hello_src, session_env, tmp_path):
    need("skopeo")
    renamed = tmp_path / "checked-out-as-something-else"
    shutil.copytree(hello_src, renamed)
    proc = pyko("build", str(renamed), "--repo", f"{registry.host}/names", "--sbom=none", "-P",
                "-t", "v2", "--tag-only", env=session_env)
    assert proc.returncode == 0, proc.stderr
    # -P: the whole import path; --tag-only: repo:TAG, no digest.
    assert proc.stdout.strip() == f"{registry.host}/names/example.com/hello-go:v2"
    config = skopeo_config(f"docker://{registry.host}/names/example.com/hello-go:v2")["config"]
    assert config["Cmd"] == ["/ko-app/hello-go"]  # the binary keeps the last element
    bad = pyko("build", str(renamed), "--repo", f"{registry.host}/names", "--tag-only", env=session_env)
    assert_clean_error(bad, "--tag-only needs exactly one -t TAG")


def test_image_refs_can_list_attachments_and_push_by_digest_moves_no_tag(registry, c_binaries, session_env,
                                                                        tmp_path):
    need("skopeo")
    env = dict(session_env, COSIGN_PASSWORD="pw")
    assert pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "k"), env=env).returncode == 0
    refs = tmp_path / "refs.txt"
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "att",
                "--repo", f"{registry.host}/refs", "--sign-key", str(tmp_path / "k.key"), "--push-by-digest",
                "--image-refs", str(refs), "--image-refs-attachments", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = refs.read_text().splitlines()
    digest = proc.stdout.strip().split("@")[1]
    hexd = digest.split(":")[1]
    assert lines[0] == f"{registry.host}/refs/att@{digest}"
    assert any(line.startswith(f"{registry.host}/refs/att:sha256-{hexd}.sig@sha256:") for line in lines)
    assert sum(".sbom@sha256:" in line for line in lines) == 2
    import hashlib
    for line in lines[2:]:  # every attachment line is a reference that resolves to exactly that manifest
        ref, _, want = line.partition("@")
        # cosign's tag pinned to what is under it, or (a referrer) the digest alone
        ref = ref if ref.rsplit("/", 1)[-1].count(":") else line
        got = run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"]).stdout.encode()
        assert "sha256:" + hashlib.sha256(got).hexdigest() == want
    tags = run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry.host}/refs/att"]).stdout
    assert '"latest"' not in tags  # --push-by-digest: no tag was moved (the cosign tags are attachments)
    assert os.path.getsize(refs) > 0
