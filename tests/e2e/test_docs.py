"""The documentation is built and run, not kept true by hand: `mkdocs build --strict` (broken links
or pages fail), the generated command reference names every flag of every command, and every
shell example marked runnable (`<!-- runnable -->` before a ```sh block) in README.md and docs/
runs as written, against a real registry on loopback ($REGISTRY)."""
import glob
import os
import re
import shutil
import stat
import subprocess
import sys

import click
import pytest

from oci_tools import REPO

RUNNABLE = re.compile(r"<!-- runnable -->\s*\n```sh\n(.*?)```", re.S)


def _examples():
    """One parameter per page that has runnable examples: its blocks, in order (a page's examples
    build on each other, as a reader following it would)."""
    out = []
    for path in [os.path.join(REPO, "README.md"), *sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))]:
        with open(path) as f:
            blocks = RUNNABLE.findall(f.read())
        if blocks:
            out.append(pytest.param(blocks, id=os.path.relpath(path, REPO)))
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="pip install '.[docs]' (.ci/install-deps does)")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_site_builds_strictly_and_the_reference_names_every_flag(site):
    from pyko.cli import cli

    with open(site / "cli" / "index.html") as f:
        reference = f.read()
    missing = []
    for name, command in cli.commands.items():
        commands = command.commands.values() if isinstance(command, click.Group) else [command]
        for one in commands:
            for param in one.params:
                if getattr(param, "hidden", False):
                    continue   # ko's flags pyko only refuses (--debug): named in coming-from-ko.md
                for flag in getattr(param, "opts", []):
                    if flag.startswith("--") and flag not in reference:
                        missing.append(f"{name}: {flag}")
    assert missing == []


def test_there_are_runnable_examples():
    assert sum(len(param.values[0]) for param in _examples()) >= 5


@pytest.fixture(scope="module")
def docs_registry(tmp_path_factory):
    """A registry of the examples' own: what they push must not be in the suite's shared one, where
    other tests count what a push uploads and mounts."""
    from registry_fixtures import start_registry

    running = start_registry(str(tmp_path_factory.mktemp("docs-registry")))
    yield running
    running.stop()


@pytest.mark.parametrize("blocks", _examples())
def test_each_runnable_example_runs_as_written(blocks, docs_registry, session_env, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(os.path.join(REPO, "testdata", "hello-go"), work / "testdata" / "hello-go")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "pyko"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m pyko "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = {**session_env, "REGISTRY": docs_registry.host, "PATH": f"{bin_dir}:{session_env['PATH']}"}
    for block in blocks:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, f"{block}\n--- stderr:\n{proc.stderr}"
        assert "pyko: error" not in proc.stderr
