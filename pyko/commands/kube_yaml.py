"""Kubernetes YAML for `pyko resolve`: find `pyko://` and `ko://` references, then
put digest references in their place, changing nothing else.

The YAML is parsed only to find where each reference is (its exact span in
the text) and which documents a label selector keeps; the output is the input
text with those spans replaced. So comments, key order, quoting, indentation
and blank lines survive byte for byte, which no load-and-dump round trip
guarantees. A replaced value keeps its quoting style.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

from ..errors import MalformedInput, UsageError, clean_text
from ..util.files import read_capped

PREFIXES = ("pyko://", "ko://")
MAX_YAML = 16 << 20
YAML_SUFFIXES = (".yaml", ".yml", ".json")
_SEPARATOR = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)


@dataclass(frozen=True)
class Found:
    """One reference in one document: where it is and what it says."""

    source: str         # the file it is in ("-" for stdin)
    line: int           # 1-based, for messages
    start: int          # its span in the document's text (quotes included)
    end: int
    style: Optional[str]    # None (plain), '"' or "'"
    value: str          # e.g. "ko://example.com/app/cmd/server"

    @property
    def target(self) -> str:
        """What it names: an import path or a directory."""
        return self.value.split("://", 1)[1]


@dataclass
class Document:
    source: str
    text: str                       # including its leading `---` line, if it has one
    first_line: int                 # where `text` starts in its file
    data: object = None             # the parsed document, for selectors
    refs: Tuple[Found, ...] = ()


def read_inputs(names: Iterable[str], recursive: bool, read_stdin: Callable[[], str]) -> List[Tuple[str, str]]:
    """(name, text) for each -f: a file, `-` (stdin), or a directory's .yaml/.yml/.json files."""
    out = []
    for name in names:
        if name == "-":
            out.append(("-", read_stdin()))
        elif os.path.isdir(name):
            out += [(path, _read(path)) for path in _yaml_files(name, recursive)]
        elif os.path.isfile(name):
            out.append((name, _read(name)))
        else:
            raise UsageError(f"-f {name}: no such file or directory")
    return out


def _yaml_files(directory: str, recursive: bool) -> List[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES)]
    return found


def _read(path: str) -> str:
    data = read_capped(path, MAX_YAML, "YAML file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def documents(source: str, text: str) -> List[Document]:
    """The file's documents, split at `---` lines, each parsed and searched for references."""
    starts = [0] + [m.start() for m in _SEPARATOR.finditer(text) if m.start() > 0]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        piece = text[start:end]
        doc = Document(source, piece, text.count("\n", 0, start) + 1)
        doc.data, doc.refs = _parse(doc)
        out.append(doc)
    return out


def _parse(doc: Document) -> Tuple[Any, Tuple[Found, ...]]:
    try:
        nodes, data = _compose_and_construct(doc.text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = doc.first_line + (mark.line if mark else 0)
        raise MalformedInput(f"{doc.source}:{line}: not valid YAML: {clean_text(getattr(err, 'problem', err), 120)}") \
            from None
    except RecursionError:
        raise MalformedInput(f"{doc.source}:{doc.first_line}: YAML nested too deeply") from None
    refs: List[Found] = []
    for node in nodes:
        _walk(node, doc, refs)
    return (data[0] if len(data) == 1 else data), tuple(refs)


def _compose_and_construct(text: str) -> Tuple[List[yaml.Node], List[Any]]:
    """Each document's node tree (for the spans) and its data (for selectors), from one parse."""
    loader = yaml.SafeLoader(text)
    nodes: List[yaml.Node] = []
    data: List[Any] = []   # each document as parsed: its shape is for the selectors to check
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:   # check_node() said one is there
                break
            nodes.append(node)
            data.append(loader.construct_document(node))
    finally:
        loader.dispose()
    return nodes, data


def _walk(node: yaml.Node, doc: Document, refs: List[Found]) -> None:
    """Every reference in the node graph, each node visited once: an alias is the same node object
    as its anchor, so a "billion laughs" document (aliases of aliases) costs its size, not its
    expansion."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            # Plain and quoted strings only: a block scalar (| or >) is prose, not an image field.
            if current.tag == "tag:yaml.org,2002:str" and current.style in (None, '"', "'") \
                    and current.value.startswith(PREFIXES):
                refs.append(Found(doc.source, doc.first_line + current.start_mark.line, current.start_mark.index,
                                  current.end_mark.index, current.style, current.value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(v for pair in current.value for v in pair)


# --- label selectors (kubectl's equality-based form) ------------------------------
_REQUIREMENT = re.compile(r"\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*\Z")


def parse_selector(text: str) -> List[Tuple[str, str, str]]:
    """`app=web,tier!=db,canary,!legacy` -> [(key, op, value)], op one of = != exists !exists."""
    out = []
    for part in (p for p in text.split(",") if p.strip()) if text else ():
        match = _REQUIREMENT.match(part)
        if not match or (match.group(1) and match.group(3)):
            raise UsageError(f"-l {text!r}: {part.strip()!r} is not a label requirement "
                             "(use key=value, key!=value, key or !key)")
        negated, key, op, value = match.groups()
        out.append((key, {"==": "=", "=": "=", "!=": "!="}[op] if op else ("!exists" if negated else "exists"),
                    value or ""))
    return out


def selected(doc: Document, selector: List[Tuple[str, str, str]]) -> bool:
    if not selector:
        return True
    data = doc.data
    metadata = data.get("metadata") if isinstance(data, dict) else None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    labels = labels if isinstance(labels, dict) else {}
    for key, op, value in selector:
        present = key in labels
        if (op == "exists" and not present) or (op == "!exists" and present):
            return False
        found = _label_text(labels.get(key))
        if op == "=" and found != value:
            return False
        if op == "!=" and present and found == value:
            return False
    return True


def _label_text(value: object) -> Optional[str]:
    """A label's value as text: a scalar only. A label that is a mapping or a list (an alias to a
    "billion laughs" structure, say) matches nothing, and is never expanded into text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


# --- writing the result ----------------------------------------------------------
def replaced(doc: Document, digests: Mapping[str, str]) -> str:
    """The document's text with each reference replaced by its digest reference, in one pass (the
    text between references is copied once: 80,000 references cost their length, not its square)."""
    pieces, at = [], 0
    for ref in sorted(doc.refs, key=lambda r: r.start):
        pieces += [doc.text[at:ref.start], _quoted(ref, digests[ref.value])]
        at = ref.end
    pieces.append(doc.text[at:])
    return "".join(pieces)


def _quoted(ref: Found, new: str) -> str:
    if ref.style == '"':
        return json.dumps(new)
    if ref.style == "'":
        return "'" + new.replace("'", "''") + "'"
    return new


def joined(docs: List[Document], digests: Mapping[str, str]) -> str:
    """The kept documents, in order; files are separated by `---` as kubectl expects."""
    out: List[str] = []
    previous_source = None
    for doc in docs:
        text = replaced(doc, digests)
        if out and doc.source != previous_source and not text.lstrip().startswith("---"):
            if not out[-1].endswith("\n"):
                out.append("\n")
            out.append("---\n")
        out.append(text)
        previous_source = doc.source
    return "".join(out)


def build_paths(refs: Iterable[Found], to_dir: Callable[[str], Optional[str]], root: str = "") -> Dict[str, str]:
    """reference value -> the directory that builds it; an error names the first that builds nothing.
    A reference written as a path (./x, ../x, /x) must stay inside `root`, the working directory:
    YAML is often someone else's file, and a pyko:// in it must not build what lies outside the
    repository. (Import paths are go list's to resolve, dependencies included, as in ko.)"""
    out: Dict[str, str] = {}
    for ref in refs:
        if ref.value in out:
            continue
        directory = to_dir(ref.target) if ref.target else None
        if not directory:
            raise UsageError(f"{ref.source}:{ref.line}: {clean_text(ref.value, 120)} names no Go main package or "
                             "Rust crate pyko can build (give an import path in this module, or a directory "
                             "such as pyko://./cmd/app)")
        if root and _path_like(ref.target) and not _inside(directory, root):
            raise UsageError(f"{ref.source}:{ref.line}: {clean_text(ref.value, 120)} names a directory outside "
                             f"{root}: YAML may build only what is in the working directory")
        out[ref.value] = directory
    return out


def _path_like(target: str) -> bool:
    return target.startswith(("/", ".")) or ".." in target.split("/")


def _inside(directory: str, root: str) -> bool:
    real, top = os.path.realpath(directory), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def resolve_documents(names: Iterable[str], recursive: bool, selector: str, read_stdin: Callable[[], str],
                      cwd: str, environ: Mapping[str, str], build: Callable[[List[str], bool], List[str]],
                      one_name: bool = False) -> str:
    """`pyko resolve`: the documents of `names` (files, directories, - for stdin) that `selector`
    picks, with every pyko:// and ko:// reference replaced by the digest reference `build` gives for
    its directory; each directory is built once, all in one `build` call, told whether the YAML
    names any image the ko way (ko://), which makes the run a ko user's."""
    from ..toolchains.drivers import locate

    requirements = parse_selector(selector)
    docs = [doc for name, text in read_inputs(names, recursive, read_stdin)
            for doc in documents(name, text) if selected(doc, requirements)]
    refs = [ref for doc in docs for ref in doc.refs]
    directories = build_paths(refs, lambda target: locate(target, cwd, environ), cwd)
    if one_name and len(set(directories.values())) > 1:
        raise UsageError("--name names one image, but the YAML references several")
    paths = list(dict.fromkeys(directories.values()))
    named_by_ko = any(ref.value.startswith("ko://") for ref in refs)
    built = dict(zip(paths, build(paths, named_by_ko))) if paths else {}
    return joined(docs, {value: built[directory] for value, directory in directories.items()})

