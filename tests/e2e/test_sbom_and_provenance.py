"""What pyko's SBOMs and provenance say, checked against other tools on real builds: every module
`go version -m` reports and the standard library; nothing syft finds in the image that pyko's SBOM
lacks (Go modules, the standard library, crates); the built-in base's contents; and attestations
that do not depend on the directory pyko was run from."""
import json
import os
import shutil
import subprocess

import pytest

from oci_tools import REPO, copy_platform, pyko, run

SYFT = os.path.join(REPO, ".ci", "bin", "syft", "syft")


def _sbom(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def _purls(doc, prefix):
    """(name, version) of every package whose purl has `prefix` (pkg:golang/, pkg:cargo/)."""
    out = set()
    for package in doc["packages"]:
        for ref in package.get("externalRefs", []):
            locator = ref["referenceLocator"]
            if locator.startswith(prefix):
                out.add((package["name"], package.get("versionInfo", "")))
    return out


@pytest.fixture(scope="module")
def go_build(tmp_path_factory, session_env, hello_src):
    work = tmp_path_factory.mktemp("go-sbom")
    layout, sboms = work / "layout", work / "sboms"
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", str(layout), "--sbom-dir",
                str(sboms), env=session_env)
    assert proc.returncode == 0, proc.stderr
    return {"layout": str(layout), "sbom": _sbom(sboms, "hello-go-linux-amd64.spdx.json"), "work": work,
            "ref": proc.stdout.strip()}


def test_the_go_sbom_lists_every_module_of_go_version_m_and_the_standard_library(go_build, session_env):
    binary = go_build["work"] / "hello-go"
    bundle = copy_platform(f"oci:{go_build['layout']}:hello-go:latest", str(go_build["work"] / "one"), "amd64")
    run(["umoci", "raw", "unpack", "--image", bundle, str(go_build["work"] / "rootfs")])
    shutil.copy(go_build["work"] / "rootfs" / "ko-app" / "hello-go", binary)
    printed = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True,
                             env=session_env).stdout
    version = printed.splitlines()[0].rsplit(": ", 1)[1]
    modules = {tuple(line.split("\t")[2:4]) for line in printed.splitlines() if line.startswith(("\tmod", "\tdep"))}
    listed = _purls(go_build["sbom"], "pkg:golang/")
    assert ("stdlib", version) in listed
    assert modules <= listed, modules - listed
    stdlib = next(p for p in go_build["sbom"]["packages"] if p["name"] == "stdlib")
    assert stdlib["externalRefs"][0]["referenceLocator"] == f"pkg:golang/stdlib@{version[2:]}"


def test_the_built_in_bases_contents_are_listed_with_their_versions(go_build):
    from importlib.metadata import version

    names = {(p["name"], p.get("versionInfo")) for p in go_build["sbom"]["packages"]}
    assert ("Mozilla CA bundle (certifi)", version("certifi")) in names
    assert ("IANA time zone database (tzdata)", version("tzdata")) in names


def _syft(layout_ref, work):
    if not os.access(SYFT, os.X_OK):
        pytest.skip("no syft (.ci/install-deps builds it)")
    one = copy_platform(f"oci:{layout_ref}", str(work / "syft-in"), "amd64")
    proc = subprocess.run([SYFT, "scan", f"oci-dir:{one.rsplit(':', 1)[0]}", "-o", "json", "-q"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false", "HOME": str(work)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["artifacts"]


def test_syft_finds_no_go_module_or_standard_library_that_pyko_lacks(go_build):
    found = {(a["name"], a["version"]) for a in _syft(f"{go_build['layout']}:hello-go:latest", go_build["work"])
             if a.get("purl", "").startswith("pkg:golang/")}
    assert any(name == "stdlib" for name, _ in found)  # syft saw the binary
    listed = _purls(go_build["sbom"], "pkg:golang/")
    # A main module built outside a checkout has no version: Go says "(devel)", syft "UNKNOWN".
    unversioned = {"(devel)", "UNKNOWN", ""}
    missing = {(name, version) for name, version in found if (name, version) not in listed
               and not (version in unversioned and any(n == name and v in unversioned for n, v in listed))}
    assert missing == set()


def test_syft_finds_no_crate_that_pyko_lacks(session_env, tmp_path):
    if not shutil.which("cargo"):
        pytest.skip("needs cargo (rustup)")
    crate = tmp_path / "app"
    shutil.copytree(os.path.join(REPO, "testdata", "rust-deps"), crate, ignore=shutil.ignore_patterns("target"))
    env = dict(session_env, PATH=f"{os.path.join(REPO, '.ci', 'cargo-tools', 'bin')}:{session_env['PATH']}")
    layout, sboms = tmp_path / "layout", tmp_path / "sboms"
    proc = pyko("build", ".", "--platform", "linux/amd64", "--rust-libc", "gnu", "--oci-layout", str(layout),
                "--sbom-dir", str(sboms), cwd=str(crate), env=env)   # auto: cargo-auditable embeds the crates
    assert proc.returncode == 0, proc.stderr
    found = {(a["name"], a["version"]) for a in _syft(f"{layout}:realdeps:latest", tmp_path)
             if a.get("purl", "").startswith("pkg:cargo/")}
    assert ("serde_json", next(v for n, v in found if n == "serde_json")) in found  # syft read the crates
    assert found <= _purls(_sbom(sboms, "realdeps-linux-amd64.spdx.json"), "pkg:cargo/")


def test_attestations_do_not_depend_on_where_pyko_ran(session_env, hello_src, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    env = dict(session_env, COSIGN_PASSWORD="", SOURCE_DATE_EPOCH="1700000000")
    assert pyko("generate-key-pair", "--output-key-prefix", str(keys / "k"), env=env).returncode == 0
    parent = tmp_path / "src"
    shutil.copytree(hello_src, parent / "app")
    results = []
    for cwd, path, layout in ((parent, "./app", tmp_path / "one"), (parent / "app", ".", tmp_path / "two")):
        proc = pyko("build", path, "--platform", "linux/amd64", "--oci-layout", str(layout), "--sign-key",
                    str(keys / "k.key"), "--json", cwd=str(cwd), env=env)
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    assert results[0]["digest"] == results[1]["digest"]
    assert results[0]["attestations"] and results[0]["attestations"] == results[1]["attestations"]
