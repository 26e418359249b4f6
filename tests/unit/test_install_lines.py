"""Every install line in the README, the docs and pyko's own messages installs this project by its
distribution name (pyko-images) or from a checkout: `pyko` on the package index is someone else's."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: `pip install` and what it installs, up to the end of the command (a quote, a backtick, && or the line).
INSTALL = re.compile(r"pip install\s+((?:-\S+\s+)*)(['\"]?)([^\s'\"`&;)]+)")
BARE = re.compile(r"pyko(\[[^\]]*\])?\Z")


def _install_lines():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "pyko").rglob("*.py"))]
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in INSTALL.finditer(line):
                yield f"{path.relative_to(ROOT)}:{number}", match.group(3)


def test_no_line_installs_the_index_project_named_pyko():
    found = list(_install_lines())
    assert found, "no install line found: the pattern is broken"
    bare = [(where, what) for where, what in found if BARE.match(what)]
    assert bare == []


def test_the_project_is_installed_by_its_distribution_name_or_from_a_checkout():
    ours = [(where, what) for where, what in _install_lines() if what.startswith(("pyko", "."))]
    assert ours, "no line installs pyko at all"
    assert all(what.startswith(("pyko-images", ".")) for _, what in ours), ours
    readme = (ROOT / "README.md").read_text()
    assert "pip install '.[go]'" in readme   # the README installs the checkout it stands in


def test_the_distribution_name_is_what_the_docs_say():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^name = "pyko-images"$', text, re.M)
    assert re.search(r'^pyko = "pyko.cli:main"$', text, re.M)   # the command keeps its name
