"""A ko project moved to pyko with no edits, side by side with ko v0.19.1 on the same inputs:
the same .ko.yaml, KO_DOCKER_REPO, import-path and ko:// arguments and ko's comma syntax give the
same binaries (byte for byte), tags and labels; a Deployment's args: reach the binary; a mistyped
registry host fails in seconds."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time

import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, unpack

KO = os.path.join(os.path.dirname(__file__), "..", "..", ".ci", "bin", "ko")
PLATFORMS = ("linux/amd64", "linux/arm64")

SERVER = """package main

import (
	"fmt"
	"os"
	"strings"
)

var version = "unset"

func main() {
	fmt.Printf("server %s %s args=%s\\n", version, mode, strings.Join(os.Args[1:], " "))
}
"""
PROD = "//go:build prod\n\npackage main\n\nconst mode = \"prod\"\n"
DEV = "//go:build !prod\n\npackage main\n\nconst mode = \"dev\"\n"
TOOL = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tool\") }\n"

KO_YAML = """\
defaultBaseImage: {base}
defaultPlatforms: [linux/amd64, linux/arm64]
defaultLdflags: [-s, -w]
builds:
- id: server
  main: ./cmd/server
  env: [GOAMD64=v2]
  flags: -tags=prod
  ldflags:
  - -s
  - -X main.version={{{{.Env.VERSION}}}}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: server
spec:
  template:
    spec:
      containers:
      - name: server
        image: ko://example.com/shop/cmd/server
        args: ["--greeting", "hi"]
"""


def ko_binary() -> str:
    path = shutil.which("ko") or os.path.abspath(KO)
    if not os.access(path, os.X_OK):
        pytest.skip("needs ko v0.19.1 (.ci/install-deps builds it into .ci/bin)")
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory, published_base):
    root = tmp_path_factory.mktemp("ko-project")
    (root / "go.mod").write_text("module example.com/shop\n\ngo 1.21\n")
    server, tool = root / "cmd" / "server", root / "cmd" / "tool"
    server.mkdir(parents=True)
    tool.mkdir()
    (server / "main.go").write_text(SERVER)
    (server / "prod.go").write_text(PROD)
    (server / "dev.go").write_text(DEV)
    (tool / "main.go").write_text(TOOL)
    (root / ".ko.yaml").write_text(KO_YAML.format(base=published_base["tag"]))
    (root / "deploy.yaml").write_text(DEPLOYMENT)
    return root


@pytest.fixture(scope="module")
def ko_env(session_env, registry):
    return dict(session_env, KO_DOCKER_REPO=f"{registry.host}/shop", VERSION="1.2.3",
                SOURCE_DATE_EPOCH="1700000000")


def _blob(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as f:
        return f.read()


def _images(layout, index_digest):
    """platform -> (config, the app layer's files) of one image index in a layout."""
    out = {}
    for entry in json.loads(_blob(layout, index_digest))["manifests"]:
        manifest = json.loads(_blob(layout, entry["digest"]))
        config = json.loads(_blob(layout, manifest["config"]["digest"]))
        layer = _blob(layout, manifest["layers"][-1]["digest"])
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
            files = {m.name.lstrip("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        platform = entry["platform"]
        out[f"{platform['os']}/{platform['architecture']}"] = (config, files)
    return out


def _by_app(layout, digests):
    """{app name: index digest}, from the ko-app/<name> file each index's amd64 image holds."""
    out = {}
    for digest in digests:
        _, files = _images(layout, digest)["linux/amd64"]
        names = [path.split("/", 1)[1] for path in files if path.startswith("ko-app/")]
        assert len(names) == 1, files.keys()
        out[names[0]] = digest
    return out


def _digests(stdout):
    return [line.rsplit("@", 1)[1] for line in stdout.split() if "@sha256:" in line]


def test_the_same_ko_yaml_and_flags_give_kos_binaries_tags_and_labels(project, ko_env, tmp_path):
    ko = ko_binary()
    ko_layout, pyko_layout = str(tmp_path / "ko"), str(tmp_path / "pyko")
    args = ["-B", "-t", "v1,v1.2", "--image-label", "team=shop,tier=web", "--push=false"]
    by_ko = subprocess.run([ko, "build", "./cmd/server", "example.com/shop/cmd/tool", "--oci-layout-path",
                            ko_layout, *args], cwd=project, env=ko_env, capture_output=True, text=True,
                           timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    by_pyko = pyko("build", "./cmd/server", "ko://example.com/shop/cmd/tool", "--oci-layout", pyko_layout, *args,
                   cwd=str(project), env=ko_env)
    assert by_pyko.returncode == 0, by_pyko.stderr
    assert "warning" not in by_pyko.stderr   # every key of the .ko.yaml is known
    ko_digests, pyko_digests = _digests(by_ko.stdout), _digests(by_pyko.stdout)
    assert len(ko_digests) == len(pyko_digests) == 2
    # ko publishes its images concurrently, so its lines come in either order: pair them by the app.
    ko_by_name, pyko_by_name = _by_app(ko_layout, ko_digests), _by_app(pyko_layout, pyko_digests)
    assert sorted(ko_by_name) == sorted(pyko_by_name) == ["server", "tool"]
    assert [pyko_by_name[name] for name in ("server", "tool")] == pyko_digests   # pyko's follow the arguments
    for name in ("server", "tool"):
        theirs, ours = _images(ko_layout, ko_by_name[name]), _images(pyko_layout, pyko_by_name[name])
        assert sorted(theirs) == sorted(ours) == sorted(PLATFORMS)   # defaultPlatforms
        for platform in PLATFORMS:
            (ko_config, ko_files), (config, files) = theirs[platform], ours[platform]
            app = f"ko-app/{name}"
            assert files[app] == ko_files[app], f"{name} {platform}: the binaries differ"
            assert config["config"]["Entrypoint"] == ko_config["config"]["Entrypoint"] == [f"/{app}"]
            for key in ("team", "tier"):
                assert config["config"]["Labels"][key] == ko_config["config"]["Labels"][key]
    # what reached the compiler: the build's env, flags and templated ldflags
    server_config, server_files = _images(pyko_layout, pyko_digests[0])["linux/amd64"]
    assert b"1.2.3" in server_files["ko-app/server"] and b"prod" in server_files["ko-app/server"]
    tags = {m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
            for m in json.loads(open(os.path.join(pyko_layout, "index.json")).read())["manifests"]}
    assert {"v1", "v1.2"} <= {t.rsplit(":", 1)[-1] for t in tags}


def test_a_resolved_deployment_runs_the_binary_with_its_args(project, ko_env, tmp_path):
    need("skopeo", "umoci")
    need_root()
    resolved = pyko("resolve", "-f", "deploy.yaml", "--platform", "linux/amd64", cwd=str(project), env=ko_env)
    assert resolved.returncode == 0, resolved.stderr
    image = next(line.split("image:", 1)[1].strip() for line in resolved.stdout.splitlines() if "image:" in line)
    assert "@sha256:" in image and 'args: ["--greeting", "hi"]' in resolved.stdout
    single = str(tmp_path / "one") + ":app"
    run(["skopeo", "--override-os", "linux", "--override-arch", "amd64", "copy", "--src-tls-verify=false",
         f"docker://{image}", f"oci:{single}"])
    bundle = unpack(single, str(tmp_path / "bundle"))
    config = json.loads(run(["skopeo", "inspect", "--config", f"oci:{single}"]).stdout)["config"]
    # The kubelet's rule: args: replace Cmd and follow the Entrypoint.
    argv = (config.get("Entrypoint") or []) + ["--greeting", "hi"]
    user = bundle.process["user"]
    proc = subprocess.run(["env", "-i", *bundle.process["env"], "chroot", f"--userspec={user['uid']}:{user['gid']}",
                           bundle.rootfs, *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "server 1.2.3 prod args=--greeting hi"


def test_a_misspelled_key_is_named_and_a_mistyped_registry_fails_in_seconds(project, ko_env, tmp_path):
    (tmp_path / ".ko.yaml").write_text((project / ".ko.yaml").read_text().replace("defaultPlatforms",
                                                                                    "defaultPlatform"))
    env = dict(ko_env, KO_CONFIG_PATH=str(tmp_path), KO_DOCKER_REPO="registry.invalid/shop")
    started = time.monotonic()
    proc = pyko("build", "./cmd/tool", cwd=str(project), env=env)
    took = time.monotonic() - started
    assert "unknown key 'defaultPlatform'" in proc.stderr and "did you mean defaultPlatforms?" in proc.stderr
    assert_clean_error(proc, "cannot reach registry registry.invalid", "check the host name")
    assert took < 10, f"{took:.1f}s to fail on a name that does not resolve"


TEMPLATED = """package main

import "fmt"

var version, arch, commit, flavour = "unset", "unset", "unset", "unset"

func main() { fmt.Println(version, arch, commit, flavour) }
"""

TEMPLATED_KO_YAML = """\
defaultBaseImage: {base}
builds:
- id: templated
  main: ./cmd/templated
  flags:
  - '{{{{ if eq .Env.GOARCH "arm64" }}}}-trimpath{{{{ else }}}}-v{{{{ end }}}}'
  ldflags:
  - '{{{{ if index .Env "LD_FLAGS" }}}}{{{{ .Env.LD_FLAGS }}}}{{{{ else }}}}-s -w{{{{ end }}}}'
  - '-X main.version={{{{ .Env.VERSION | printf "v%s" }}}}'
  - '-X main.arch={{{{ .GoEnv.GOARCH }}}}/{{{{ .Env.GOOS }}}}'
  - '-X main.commit={{{{ printf "%.7s" .Git.FullCommit }}}}{{{{ if .Git.IsDirty }}}}-dirty{{{{ end }}}}'
  - '-X main.flavour={{{{ with $t := .Git.Tag }}}}{{{{ $t }}}}{{{{ end }}}}-{{{{ len .Git.Branch }}}}'
"""


@pytest.fixture(scope="module")
def templated_project(tmp_path_factory, published_base):
    """A ko project in a git checkout whose .ko.yaml uses Go template logic: if/else, index, printf,
    pipes, with, variables, len, .GoEnv and .Git."""
    root = tmp_path_factory.mktemp("ko-templated")
    (root / "go.mod").write_text("module example.com/templated\n\ngo 1.21\n")
    (root / "cmd" / "templated").mkdir(parents=True)
    (root / "cmd" / "templated" / "main.go").write_text(TEMPLATED)
    (root / ".ko.yaml").write_text(TEMPLATED_KO_YAML.format(base=published_base["tag"]))
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "x"], ["tag", "v2.0.0"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    return root


def test_a_ko_yaml_with_template_logic_gives_kos_binaries(templated_project, ko_env, tmp_path):
    ko = ko_binary()
    ko_layout, pyko_layout = str(tmp_path / "ko"), str(tmp_path / "pyko")
    args = ["./cmd/templated", "-B", "--push=false", "--platform", ",".join(PLATFORMS)]
    for env in (ko_env, dict(ko_env, LD_FLAGS="-w")):
        by_ko = subprocess.run([ko, "build", *args, "--oci-layout-path", ko_layout], cwd=templated_project,
                               env=env, capture_output=True, text=True, timeout=600)
        assert by_ko.returncode == 0, by_ko.stderr
        by_pyko = pyko("build", *args, "--oci-layout", pyko_layout, cwd=str(templated_project), env=env)
        assert by_pyko.returncode == 0, by_pyko.stderr
        theirs, ours = _images(ko_layout, _digests(by_ko.stdout)[0]), _images(pyko_layout, _digests(by_pyko.stdout)[0])
        for platform in PLATFORMS:
            binary = ours[platform][1]["ko-app/templated"]
            assert binary == theirs[platform][1]["ko-app/templated"], f"{platform}: the binaries differ"
        amd64 = tmp_path / "templated"
        amd64.write_bytes(ours["linux/amd64"][1]["ko-app/templated"])
        amd64.chmod(0o755)
        head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=templated_project, text=True,
                              capture_output=True, check=True).stdout.strip()
        printed = subprocess.run([str(amd64)], capture_output=True, text=True, check=True).stdout.split()
        assert printed == ["v1.2.3", "amd64/linux", head, "v2.0.0-4"]
        assert b"linux/arm64" not in binary and b"arm64/linux" in ours["linux/arm64"][1]["ko-app/templated"]


def _kodata_modes(layout, index_digest):
    """path -> mode of every /var/run/ko entry in the amd64 image's layers."""
    index = json.loads(_blob(layout, index_digest))
    entry = next(m for m in index["manifests"] if m["platform"]["architecture"] == "amd64")
    manifest = json.loads(_blob(layout, entry["digest"]))
    modes = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(layout, layer["digest"])))) as tar:
            for member in tar.getmembers():
                name = member.name.lstrip("./")
                if name.startswith("var/run/ko/"):
                    modes[name] = (member.type, member.mode)
    return modes


@pytest.fixture(scope="module")
def plain_ko_project(tmp_path_factory):
    """A ko user's project with no .ko.yaml: KO_DOCKER_REPO and KO_DEFAULTBASEIMAGE say it is ko's."""
    root = tmp_path_factory.mktemp("ko-plain")
    (root / "go.mod").write_text("module example.com/plain\n\ngo 1.21\n")
    app = root / "cmd" / "app"
    (app / "kodata" / "sub").mkdir(parents=True)
    (app / "main.go").write_text(TOOL)
    (app / "kodata" / "page.html").write_text("<p>hi</p>")
    (app / "kodata" / "sub" / "data.txt").write_text("data")
    os.chmod(app / "kodata" / "page.html", 0o600)
    (app / "kodata" / "alias.html").symlink_to("page.html")
    return root


def test_a_ko_users_names_references_entrypoint_and_kodata_are_kos(plain_ko_project, ko_env, published_base,
                                                                     tmp_path):
    ko = ko_binary()
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"])
    repo = env["KO_DOCKER_REPO"]
    md5 = hashlib.md5(b"example.com/plain/cmd/app").hexdigest()

    def both(*args, layout=None):
        ko_args = [*args, "--oci-layout-path", str(layout / "ko")] if layout else list(args)
        pyko_args = [*args, "--oci-layout-path", str(layout / "pyko")] if layout else list(args)
        by_ko = subprocess.run([ko, "build", *ko_args], cwd=plain_ko_project, env=env, capture_output=True,
                               text=True, timeout=600)
        assert by_ko.returncode == 0, by_ko.stderr
        by_pyko = pyko("build", *pyko_args, cwd=str(plain_ko_project), env=env)
        assert by_pyko.returncode == 0, by_pyko.stderr
        return by_ko.stdout.strip(), by_pyko.stdout.strip()

    # --push=false: ko's name (<last element>-<md5 of the import path>) and its `:latest@` line
    theirs, ours = both("./cmd/app", "--push=false", "--platform", "linux/amd64")
    assert theirs.rsplit("@", 1)[0] == ours.rsplit("@", 1)[0] == f"{repo}/app-{md5}:latest"
    # ... -B names as pyko always did
    theirs, ours = both("./cmd/app", "--push=false", "-B", "--platform", "linux/amd64")
    assert theirs.rsplit("@", 1)[0] == ours.rsplit("@", 1)[0] == f"{repo}/app:latest"
    # --oci-layout-path DIR: the line names the layout
    theirs, ours = both("./cmd/app", "--push=false", "--platform", ",".join(PLATFORMS), layout=tmp_path)
    assert theirs.startswith(f"{tmp_path / 'ko'}@sha256:") and ours.startswith(f"{tmp_path / 'pyko'}@sha256:")
    ko_image = _images(str(tmp_path / "ko"), theirs.rsplit("@", 1)[1])["linux/amd64"][0]
    pyko_image = _images(str(tmp_path / "pyko"), ours.rsplit("@", 1)[1])["linux/amd64"][0]
    assert pyko_image["config"]["Entrypoint"] == ko_image["config"]["Entrypoint"] == ["/ko-app/app"]
    assert not pyko_image["config"].get("Cmd")
    ko_modes = _kodata_modes(str(tmp_path / "ko"), theirs.rsplit("@", 1)[1])
    pyko_modes = _kodata_modes(str(tmp_path / "pyko"), ours.rsplit("@", 1)[1])
    assert pyko_modes == ko_modes and ko_modes["var/run/ko/page.html"] == (tarfile.REGTYPE, 0o555)


def test_a_kodata_link_out_of_kodata_is_refused_as_ko_refuses_it(plain_ko_project, ko_env, published_base,
                                                                 tmp_path):
    ko = ko_binary()
    project = tmp_path / "project"
    shutil.copytree(plain_ko_project, project, symlinks=True)
    (project / "cmd" / "app" / "kodata" / "main.go").symlink_to("../main.go")   # in the package, not kodata
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"])
    by_ko = subprocess.run([ko, "build", "./cmd/app", "--push=false"], cwd=project, env=env, capture_output=True,
                           text=True, timeout=600)
    assert by_ko.returncode != 0 and "outside the kodata root" in by_ko.stderr
    proc = pyko("build", "./cmd/app", "--push=false", cwd=str(project), env=env)
    assert_clean_error(proc, "is a symlink to", "outside", "PYKO_DATA_PATH_ALLOWED_ROOT")


def test_ko_references_in_yaml_name_images_as_ko_does_without_any_ko_variable(plain_ko_project, ko_env,
                                                                               published_base, tmp_path):
    """A ko user's YAML (ko://) given to `pyko resolve --repo`: no KO_* variable, no .ko.yaml, and
    still ko's names, as `ko resolve` gives them; the same YAML with pyko:// keeps pyko's names."""
    ko = ko_binary()
    repo = ko_env["KO_DOCKER_REPO"]
    md5 = hashlib.md5(b"example.com/plain/cmd/app").hexdigest()
    pod = "image: {}://example.com/plain/cmd/app\n"
    (tmp_path / "ko.yaml").write_text(pod.format("ko"))
    (tmp_path / "pyko.yaml").write_text("image: pyko://./cmd/app\n")
    by_ko = subprocess.run([ko, "resolve", "-f", str(tmp_path / "ko.yaml"), "--platform", "linux/amd64"],
                           cwd=plain_ko_project, env=dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"]),
                           capture_output=True, text=True, timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    assert by_ko.stdout.startswith(f"image: {repo}/app-{md5}@sha256:")
    env = {k: v for k, v in ko_env.items() if not k.startswith("KO_")}
    for yaml, name in (("ko.yaml", f"app-{md5}"), ("pyko.yaml", "app")):
        proc = pyko("resolve", "-f", str(tmp_path / yaml), "--repo", repo, "--base", published_base["tag"],
                    "--platform", "linux/amd64", cwd=str(plain_ko_project), env=env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"image: {repo}/{name}@sha256:"), proc.stdout


def test_kos_kind_publisher_is_refused_before_anything_is_built(plain_ko_project, ko_env, tmp_path):
    env = dict(ko_env, KO_DOCKER_REPO="kind.local", GOCACHE=str(tmp_path / "gocache"))
    proc = pyko("build", "./cmd/app", cwd=str(plain_ko_project), env=env)
    assert_clean_error(proc, "kind.local", "not supported", "kind load docker-image")
    assert proc.returncode == 2 and not (tmp_path / "gocache").exists()   # refused before Go ran


@pytest.mark.parametrize("ko_yaml, goflags", [
    ("builds:\n- id: app\n  main: ./cmd/app\n  flags: [-toolexec=/bin/true]\n", ""),
    ("", "-toolexec=/bin/true"),
])
def test_toolexec_in_flags_or_goflags_is_refused_as_ko_refuses_it(plain_ko_project, ko_env, published_base,
                                                                  tmp_path, ko_yaml, goflags):
    ko = ko_binary()
    project = tmp_path / "project"
    shutil.copytree(plain_ko_project, project, symlinks=True)
    if ko_yaml:
        (project / ".ko.yaml").write_text(ko_yaml)
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"], GOFLAGS=goflags)
    by_ko = subprocess.run([ko, "build", "./cmd/app", "--push=false"], cwd=project, env=env, capture_output=True,
                           text=True, timeout=600)
    assert by_ko.returncode != 0 and "cannot set -toolexec" in by_ko.stderr, by_ko.stderr
    proc = pyko("build", "./cmd/app", "--push=false", cwd=str(project), env=env)
    assert_clean_error(proc, "-toolexec=/bin/true in", "is refused")


def _image_parts(layout, index_digest):
    """platform -> (manifest, config, the entries of each layer above the base): what ko and pyko
    should agree on, the entries as (path, type, mode, owner, file digest)."""
    index = json.loads(_blob(layout, index_digest))
    out = {}
    for entry in index["manifests"]:
        manifest = json.loads(_blob(layout, entry["digest"]))
        config = json.loads(_blob(layout, manifest["config"]["digest"]))
        layers = []
        for layer in manifest["layers"][1:]:
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(layout, layer["digest"])))) as tar:
                layers.append([(m.name.strip("/"), m.type, m.mode, m.uid, m.gid,
                                hashlib.sha256(tar.extractfile(m).read()).hexdigest() if m.isfile() else "")
                               for m in tar.getmembers()])
        out[json.dumps(entry["platform"], sort_keys=True)] = (manifest, config, layers)
    return index, out


def test_a_ko_users_image_is_kos_but_for_who_made_it_and_file_times(plain_ko_project, ko_env, published_base,
                                                                     tmp_path):
    """No kodata/, two platforms: the same index, manifests, Env, Entrypoint, user and layer entries
    (ko's empty kodata layer and KO_DATA_PATH included), the same binaries; what differs is the
    author and history text, and the files' times (pyko's are SOURCE_DATE_EPOCH, ko's zero)."""
    ko = ko_binary()
    project = tmp_path / "project"
    shutil.copytree(plain_ko_project, project, symlinks=True)
    shutil.rmtree(project / "cmd" / "app" / "kodata")
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"])
    args = ["./cmd/app", "--push=false", "--platform", ",".join(PLATFORMS), "--oci-layout-path"]
    by_ko = subprocess.run([ko, "build", *args, str(tmp_path / "ko")], cwd=project, env=env, capture_output=True,
                           text=True, timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    by_pyko = pyko("build", *args, str(tmp_path / "pyko"), cwd=str(project), env=env)
    assert by_pyko.returncode == 0, by_pyko.stderr
    ko_index, theirs = _image_parts(str(tmp_path / "ko"), by_ko.stdout.strip().rsplit("@", 1)[1])
    pyko_index, ours = _image_parts(str(tmp_path / "pyko"), by_pyko.stdout.strip().rsplit("@", 1)[1])
    assert [m["platform"] for m in pyko_index["manifests"]] == [m["platform"] for m in ko_index["manifests"]]
    assert pyko_index["annotations"]["org.opencontainers.image.base.name"] == \
        ko_index["annotations"]["org.opencontainers.image.base.name"]
    assert set(ours) == set(theirs) and len(ours) == len(PLATFORMS)
    for platform, (manifest, config, layers) in ours.items():
        ko_manifest, ko_config, ko_layers = theirs[platform]
        assert manifest.get("annotations") == ko_manifest.get("annotations")
        assert manifest["layers"][0] == ko_manifest["layers"][0]                  # the base's
        assert layers == ko_layers, platform                                      # kodata, then the binary
        assert layers[0] == [("var", tarfile.DIRTYPE, 0o555, 0, 0, ""), ("var/run", tarfile.DIRTYPE, 0o555, 0, 0, ""),
                             ("var/run/ko", tarfile.DIRTYPE, 0o555, 0, 0, "")]
        assert config["config"] == ko_config["config"]                            # Env (in order), Entrypoint, User
        assert "KO_DATA_PATH=/var/run/ko" in config["config"]["Env"] and "Cmd" not in config["config"]
        for key in ("architecture", "os", "variant", "created"):
            assert config.get(key) == ko_config.get(key), key
        assert config["rootfs"]["diff_ids"][0] == ko_config["rootfs"]["diff_ids"][0]
        assert len(config["history"]) == len(ko_config["history"])


def _architectures(layout, digest):
    """The platforms an image or an index in a layout holds (ko writes an image for one platform)."""
    doc = json.loads(_blob(layout, digest))
    manifests = [m["digest"] for m in doc["manifests"]] if "manifests" in doc else [digest]
    configs = [json.loads(_blob(layout, json.loads(_blob(layout, m))["config"]["digest"])) for m in manifests]
    return sorted(f"{c['os']}/{c['architecture']}" for c in configs)


@pytest.mark.parametrize("goenv, expected", [({}, ["linux/amd64"]), ({"GOOS": "linux", "GOARCH": "arm64"},
                                                                      ["linux/arm64"])])
def test_a_ko_users_default_platform_is_kos(plain_ko_project, ko_env, published_base, tmp_path, goenv, expected):
    """No --platform, no defaultPlatforms: ko builds $GOOS/$GOARCH, else linux/amd64, whatever the
    machine; so does pyko for a ko user (on this amd64 machine, GOARCH=arm64 is what tells them apart)."""
    ko = ko_binary()
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"], **goenv)
    args = ["./cmd/app", "--push=false", "--oci-layout-path"]
    by_ko = subprocess.run([ko, "build", *args, str(tmp_path / "ko")], cwd=plain_ko_project, env=env,
                           capture_output=True, text=True, timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    by_pyko = pyko("build", *args, str(tmp_path / "pyko"), cwd=str(plain_ko_project), env=env)
    assert by_pyko.returncode == 0, by_pyko.stderr
    assert _architectures(str(tmp_path / "ko"), by_ko.stdout.strip().rsplit("@", 1)[1]) == expected
    assert _architectures(str(tmp_path / "pyko"), by_pyko.stdout.strip().rsplit("@", 1)[1]) == expected


def _cosign():
    return shutil.which("cosign") or next(
        (p for p in [os.path.join(os.path.dirname(KO), "cosign")] if os.access(p, os.X_OK)), None)


def test_one_platform_is_an_image_alone_as_ko_writes_it_and_is_signed_so(plain_ko_project, ko_env, published_base,
                                                                         tmp_path):
    """ko writes one platform as an image manifest with no index, pushed and in a layout; so does pyko
    for a ko user, and signs, attests and lists that image: cosign verifies the printed reference."""
    ko = ko_binary()
    repo = ko_env["KO_DOCKER_REPO"]
    env = dict(ko_env, KO_DEFAULTBASEIMAGE=published_base["tag"], COSIGN_PASSWORD="", HOME=str(tmp_path))
    one = ["--platform", "linux/amd64"]
    by_ko = subprocess.run([ko, "build", "./cmd/app", *one, "-t", "by-ko", "--oci-layout-path", str(tmp_path / "ko")],
                           cwd=plain_ko_project, env=env, capture_output=True, text=True, timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    keys = pyko("generate-key-pair", cwd=str(tmp_path), env=env)
    assert keys.returncode == 0, keys.stderr
    refs = tmp_path / "refs.txt"
    by_pyko = pyko("build", "./cmd/app", *one, "-t", "by-pyko", "--oci-layout-path", str(tmp_path / "pyko"),
                   "--sign-key", str(tmp_path / "cosign.key"), "--image-refs", str(refs), "--json",
                   cwd=str(plain_ko_project), env=env)
    assert by_pyko.returncode == 0, by_pyko.stderr
    built = json.loads(by_pyko.stdout)
    assert built["digest"] == built["platforms"][0]["digest"]                # the image is what is named
    assert refs.read_text().splitlines() == [built["reference"]]            # one line, as ko's recorder
    for ref in (by_ko.stdout.strip().rsplit("@", 1)[0].rsplit(":", 1)[0] + ":by-ko", f"{built['name']}:by-pyko"):
        pushed = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"]).stdout)
        assert pushed["mediaType"] == "application/vnd.oci.image.manifest.v1+json", ref
    for layout in ("ko", "pyko"):
        index = json.loads((tmp_path / layout / "index.json").read_text())
        kinds = {m["mediaType"] for m in index["manifests"] if "sig" not in m.get("annotations", {}).get(
            "org.opencontainers.image.ref.name", "")}
        assert "application/vnd.oci.image.manifest.v1+json" in kinds and \
            "application/vnd.oci.image.index.v1+json" not in kinds, (layout, index)
    assert built["reference"].startswith(f"{repo}/app-")
    # --push-by-digest (pyko's, for `pyko index create`) keeps the index, so per-runner builds merge
    by_digest = pyko("build", "./cmd/app", *one, "--push-by-digest", cwd=str(plain_ko_project), env=env)
    assert by_digest.returncode == 0, by_digest.stderr
    pushed = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                             f"docker://{by_digest.stdout.strip()}"]).stdout)
    assert pushed["mediaType"] == "application/vnd.oci.image.index.v1+json"
    # rebased onto the same base, the image alone stays alone, byte for byte
    rebased = pyko("rebase", f"{built['name']}:by-pyko", "--base", published_base["tag"], "-t", "rebased", env=env)
    assert rebased.returncode == 0, rebased.stderr
    assert rebased.stdout.strip() == f"{built['name']}@{built['digest']}"
    cosign = _cosign()
    if cosign is None:
        pytest.skip("no cosign binary (.ci/install-deps builds one)")
    verified = subprocess.run([cosign, "verify", "--key", str(tmp_path / "cosign.pub"), "--insecure-ignore-tlog=true",
                               "--allow-insecure-registry", built["reference"]], env=env, capture_output=True,
                              text=True, timeout=120)
    assert verified.returncode == 0, verified.stderr
    assert built["digest"] in verified.stdout
