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


DISTRIBUTION_PYTHON = "/usr/bin/python3"   # Debian's and Ubuntu's own, externally managed


def _checkout(dest):
    """What a fresh clone holds (tracked files, and new ones not yet committed), without the
    developer's venvs, caches and built tools."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), os.path.join(dest, name))
    return dest


def _distribution_path(session_env):
    """PATH as on a fresh Debian or Ubuntu machine: the distribution's python3 first, no pyenv, no
    venv of the suite's, no Go but the one the README's install brings."""
    if not os.access(DISTRIBUTION_PYTHON, os.X_OK):
        pytest.skip(f"no distribution python3 at {DISTRIBUTION_PYTHON}")
    return {**session_env, "PATH": "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"}


def _readme_install_line():
    with open(os.path.join(REPO, "README.md")) as f:
        lines = [line.strip() for line in f if line.startswith("    python3 -m venv ")]
    assert len(lines) == 1, "README.md has one install line, indented, starting `python3 -m venv`"
    return lines[0]


@pytest.mark.slow
def test_a_newcomer_copies_the_readme_top_to_bottom(docs_registry, session_env, tmp_path):
    """Issue 35: on the distribution's python3, the README's own install line (and nothing else
    installed) makes every runnable block of the README and of getting-started work, signing included."""
    env = {**_distribution_path(session_env), "REGISTRY": docs_registry.host}
    checkout = _checkout(tmp_path / "pyko")
    install = subprocess.run(["bash", "-euo", "pipefail", "-c", _readme_install_line()], cwd=checkout, env=env,
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    assert "@sha256:" in install.stdout, install.stdout   # the main job ran: the sample app for all platforms
    venv = checkout / ".venv" / "bin"
    activate = f'. {venv}/activate && test "$(command -v pyko)" = {venv}/pyko\n'
    for page in ("README.md", os.path.join("docs", "getting-started.md")):
        with open(os.path.join(REPO, page)) as f:
            blocks = RUNNABLE.findall(f.read())
        assert blocks, page
        # Each page as its reader starts it: in a checkout, without the files another page's examples made.
        work = checkout if page == "README.md" else tmp_path / "reader"
        if work != checkout:
            shutil.copytree(os.path.join(REPO, "testdata", "hello-go"), work / "testdata" / "hello-go")
        for block in blocks:
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", activate + block], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{page}:\n{block}\n--- stderr:\n{proc.stderr}"
            assert "pyko: error" not in proc.stderr


@pytest.mark.slow
def test_the_python_setup_of_the_test_command_works_on_the_distributions_python(session_env, tmp_path):
    """Issue 35: .ci/install-deps' Python half, run with the distribution's externally managed python3
    (no pyenv, no venv), installs into .ci/venv, and .ci/test then lints, checks the layering and runs
    tests from it. The apt and Go halves need root and minutes; CI runs them on every submission."""
    env = _distribution_path(session_env)
    checkout = _checkout(tmp_path / "pyko")
    setup = subprocess.run([os.path.join(checkout, ".ci", "install-python")], env=env, capture_output=True,
                           text=True, timeout=900)
    assert setup.returncode == 0, setup.stderr
    marker = "import os, sysconfig as s; print(os.path.exists(s.get_path('stdlib') + '/EXTERNALLY-MANAGED'))"
    managed = subprocess.run([DISTRIBUTION_PYTHON, "-c", marker], capture_output=True, text=True)
    if managed.stdout.strip() == "True":
        assert "installing into .ci/venv" in setup.stderr
        assert os.access(os.path.join(checkout, ".ci", "venv", "bin", "pyko"), os.X_OK)
    test = subprocess.run([os.path.join(checkout, ".ci", "test"), "-q", "-p", "no:cacheprovider",
                           "tests/unit/test_install_lines.py"], env=env, capture_output=True, text=True, timeout=600)
    assert test.returncode == 0, test.stdout + test.stderr
    assert " passed" in test.stdout
