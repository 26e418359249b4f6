"""cli/kubernetes.py: resolve refuses to print references a cluster cannot pull; kubectl is looked
for where PYKO_KUBECTL says."""


def test_resolve_needs_a_repository(run_pyko, tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("image: ko://example.com/app\n")
    code, _, err = run_pyko("resolve", "-f", str(manifest))
    assert code == 2 and "set --repo or PYKO_DOCKER_REPO" in err


def test_resolve_writes_yaml_not_json(run_pyko, tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("kind: ConfigMap\n")
    code, _, err = run_pyko("resolve", "-f", str(manifest), "--json", "--repo", "reg.example/t")
    assert code == 2 and "--json is for `pyko build`" in err


def test_yaml_without_references_comes_back_unchanged(run_pyko, tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("# kept\nkind: ConfigMap\ndata: {a: '1'}\n")
    code, out, err = run_pyko("resolve", "-f", str(manifest), "--repo", "reg.example/t")
    assert code == 0, err
    assert out == manifest.read_text()


def test_delete_says_when_kubectl_is_missing(run_pyko, tmp_path):
    code, _, err = run_pyko("delete", "-f", "x.yaml", env={"PYKO_KUBECTL": str(tmp_path / "no-kubectl")})
    assert code == 2 and "kubectl is not on PATH" in err
