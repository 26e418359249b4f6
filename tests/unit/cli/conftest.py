import signal

import pytest


@pytest.fixture
def run_pyko(monkeypatch, capsys, tmp_path):
    """pyko's main() in this process with a clean environment; returns (exit code, stdout, stderr)."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for name in [n for n in __import__("os").environ if n.startswith(("PYKO_", "KO_", "COSIGN_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYKO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("CI", "true")

    def run(*args, env=None):
        from pyko.cli import main

        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code or 0
        finally:
            for s, handler in saved.items():
                signal.signal(s, handler)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run
