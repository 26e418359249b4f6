"""cli/signing.py: a key pair made with COSIGN_PASSWORD, an image in a layout signed and verified
with it, and each combination of verify's flags that cannot work refused."""
import stat

import pytest

from elf_headers import static_binary_for


@pytest.fixture
def keys(run_pyko, tmp_path):
    code, _, err = run_pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "k"),
                            env={"COSIGN_PASSWORD": "pw"})
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
    return str(tmp_path / "k.key"), str(tmp_path / "k.pub")


def test_sign_then_verify_in_a_layout(run_pyko, tmp_path, keys):
    binary = tmp_path / "tool"
    binary.write_bytes(static_binary_for("linux/amd64"))
    layout = str(tmp_path / "layout")
    code, out, err = run_pyko("build", "--binary", f"linux/amd64={binary}", "--name", "tool", "--oci-layout", layout)
    assert code == 0, err
    code, _, err = run_pyko("sign", "--key", keys[0], "--oci-layout", layout, "tool:latest",
                            env={"COSIGN_PASSWORD": "pw"})
    assert code == 0, err
    code, out, err = run_pyko("verify", "--key", keys[1], "--oci-layout", layout, "tool:latest")
    assert code == 0, err
    assert '"critical"' in out


@pytest.mark.parametrize("args, says", [
    (["verify", "reg.example/app"], "give --key, or --certificate-identity"),
    (["verify", "--key", "k.pub", "--certificate-identity", "me", "reg.example/app"], "give --key, or --certificate"),
    (["verify", "--certificate-identity", "me", "reg.example/app"], "--certificate-oidc-issuer"),
    (["verify", "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "x", "reg.example/app"],
     "not a regular expression"),
])
def test_verify_flags_that_cannot_work(run_pyko, args, says):
    code, _, err = run_pyko(*args)
    assert code == 2 and says in err
