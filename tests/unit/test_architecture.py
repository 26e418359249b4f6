"""The shape of the code, checked: no import cycles, the environment read only by the plan,
no dependency's private modules. (The layering itself is import-linter's contract in
pyproject.toml, run by `lint-imports` in .ci/run.)"""
import ast
import pathlib
import re

import grimp
import pytest

PYKO = pathlib.Path(__file__).resolve().parents[2] / "pyko"


def _sources():
    return sorted(PYKO.rglob("*.py"))


def _cycle(graph):
    """One import cycle among pyko's modules, as a list of names, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                return stack[stack.index(imported):] + [imported]
            if imported not in state:
                found = visit(imported)
                if found:
                    return found
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph.modules):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycles():
    graph = grimp.build_graph("pyko", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    assert _cycle(graph) is None
    graph.add_import(importer="a.c", imported="a.b")
    assert _cycle(graph) == ["a.b", "a.c", "a.b"]


def _environment_reads(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            yield node.lineno
        if isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "getenv") for a in node.names):
            yield node.lineno


def test_only_the_plan_reads_the_process_environment():
    """Everything below the plan is handed the environment (or the values parsed from it)."""
    readers = [f"{path.relative_to(PYKO.parent)}:{line}" for path in _sources()
               for line in _environment_reads(ast.parse(path.read_text()))
               if PYKO / "plan" not in path.parents]
    assert readers == []


#: pyko's own variables, and the only places outside pyko/plan/ that may name one: the program
#: locators PYKO_GO and PYKO_PODMAN (read beside PATH, CARGO and RUSTC by the code that starts that
#: child process), and KO_DATA_PATH, which is not read but written into images.
OWN_VARIABLE = re.compile(r"^(PYKO|KO)_[A-Z_]+$")
NAMED_BELOW_THE_PLAN = {"PYKO_GO": "toolchains/go.py", "PYKO_PODMAN": "transport/engines.py",
                        "KO_DATA_PATH": "image/app.py"}


def test_pykos_own_variables_are_parsed_only_in_the_plan():
    named = []
    for path in _sources():
        if PYKO / "plan" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and OWN_VARIABLE.match(node.value):
                where = str(path.relative_to(PYKO))
                if NAMED_BELOW_THE_PLAN.get(node.value) != where:
                    named.append(f"{where}: {node.value}")
    assert named == []


def _imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PYKO)))
def test_no_dependencys_private_modules_are_imported(path):
    private = [name for name in _imported_modules(ast.parse(path.read_text()))
               if not name.startswith("pyko") and any(part.startswith("_") and not part.startswith("__")
                                                      for part in name.split(".")[1:])]
    assert private == []


def _has_logic(path):
    """A module with a function, or a class with methods; constants and Protocols alone have none."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return True
        if isinstance(node, ast.ClassDef) and not any(
                isinstance(base, ast.Name) and base.id == "Protocol" for base in node.bases):
            if any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) for item in node.body):
                return True
    return False


def _unit_test_for(path):
    relative = path.relative_to(PYKO)
    if relative.name == "__init__.py":
        package = relative.parent
        return UNIT / package / f"test_{package.name}.py"
    return UNIT / relative.parent / f"test_{relative.stem}.py"


UNIT = pathlib.Path(__file__).resolve().parent


def test_every_module_with_logic_has_its_unit_test_module_in_the_same_place():
    missing = [f"{path.relative_to(PYKO)} -> {_unit_test_for(path).relative_to(UNIT.parent.parent)}"
               for path in _sources() if path.name != "__main__.py" and _has_logic(path)
               and not _unit_test_for(path).exists()]
    assert missing == []


def _code_map_paths(text):
    """The module paths (relative to pyko/) docs/architecture.md's code map names. The map is the
    indented block of `pyko/<dir>/` headings; a name in it is resolved against its heading and the
    subdirectory (`keyless/`, `destinations/`) its entry opens, or, with a slash, against pyko/ too."""
    named, section, sub = set(), None, ""
    for line in text.splitlines():
        heading = re.match(r"^    pyko/([\w/]*?)(\w+\.py)?(?=\s|$)", line)
        if heading:
            section, sub = heading.group(1), ""
            if heading.group(2):
                named.add(heading.group(1) + heading.group(2))
        elif not line.startswith("        ") or section is None:
            section = None if line.startswith("    ") or line.strip() else section
            continue
        else:
            entry = re.match(r"^        ([\w/]+/)\s", line)
            if entry:
                sub = entry.group(1)
            elif re.match(r"^        \S", line):
                sub = ""
        for token in re.findall(r"[\w/]+\.py\b", line[4:] if heading else line):
            if heading and token == (heading.group(1) or "") + (heading.group(2) or ""):
                continue
            named |= {section + token, token} if "/" in token else {section + sub + token}
    return named


def test_the_code_map_names_every_module_by_its_whole_path():
    """docs/architecture.md is the code map: it must keep naming the tree, each module under its own
    directory (a `layout.py` is not named by `oci_layout.py`, nor destinations/'s by transport/'s)."""
    named = _code_map_paths((PYKO.parent / "docs" / "architecture.md").read_text())
    unnamed = [str(path.relative_to(PYKO)) for path in _sources()
               if path.name not in ("__init__.py", "__main__.py") and str(path.relative_to(PYKO)) not in named]
    assert unnamed == []


def test_the_code_map_reader_resolves_names_by_directory():
    text = ("    pyko/transport/        where images go:\n"
            "        oci_layout.py      layouts\n"
            "        destinations/      one file per output:\n"
            "                           layout.py, tarball.py\n"
            "        referrers.py       referrers (see image/blob.py)\n"
            "    pyko/reference.py      names\n"
            "\n"
            "layout.py in prose is not the map.\n")
    named = _code_map_paths(text)
    assert {"transport/oci_layout.py", "transport/destinations/layout.py", "transport/destinations/tarball.py",
            "transport/referrers.py", "image/blob.py", "reference.py"} <= named
    assert "transport/layout.py" not in named and "layout.py" not in named


def test_the_build_orchestrator_knows_no_toolchain_by_name():
    """commands/build.py reaches toolchains only through their interface (pyko.toolchains) and the
    driver registry (pyko.toolchains.drivers), never a toolchain's own module."""
    graph = grimp.build_graph("pyko", cache_dir=None)
    imported = graph.find_modules_directly_imported_by("pyko.commands.build")
    assert sorted(m for m in imported if m.startswith("pyko.toolchains")) == ["pyko.toolchains",
                                                                             "pyko.toolchains.drivers"]


#: Protocols that describe what pyko asks of other libraries' objects (files, streams), not a role
#: pyko implements: nothing of pyko's to check against them.
STRUCTURAL_ONLY = {"Readable", "Writable", "Source"}


def test_every_protocol_has_its_implementations_checked_against_it():
    """Each role's Protocol has at least one `_x: Type[Protocol] = Implementation` that mypy checks
    (in an `if TYPE_CHECKING:` block beside the implementation)."""
    protocols, checked = set(), set()
    for path in _sources():
        text = path.read_text()
        protocols |= set(re.findall(r"^class (\w+)\(Protocol\):", text, re.M))
        checked |= set(re.findall(r"^\s+_\w+: Type\[(\w+)\] = \w+$", text, re.M))
    assert protocols - STRUCTURAL_ONLY, "no protocols found: the pattern is stale"
    assert sorted(protocols - STRUCTURAL_ONLY - checked) == []
