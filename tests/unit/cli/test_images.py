"""cli/images.py: `pyko base` writes the built-in base where it is told; `index create` and `rebase`
refuse what cannot work before touching a registry."""


def test_base_into_a_layout_for_two_platforms(run_pyko, tmp_path):
    code, out, err = run_pyko("base", "--oci-layout", str(tmp_path / "layout"), "--platform", "linux/amd64",
                              "--platform", "linux/arm64", "-q")
    assert code == 0, err
    assert out.strip().startswith("pyko-static@sha256:") and err == ""


def test_base_needs_somewhere_to_go(run_pyko):
    code, _, err = run_pyko("base")
    assert code == 2 and "say where the base goes" in err


def test_rebase_needs_a_new_base(run_pyko):
    code, _, err = run_pyko("rebase", "reg.example/app:v1")
    assert code == 2 and "--base" in err
