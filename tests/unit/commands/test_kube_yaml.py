"""YAML for `pyko resolve`: references found where they are, replaced in place, nothing else touched."""
import pytest

from pyko.commands import kube_yaml as kube
from pyko.errors import MalformedInput, UsageError

YAML = """\
# leading comment
apiVersion: v1   # kept
kind: Pod
metadata:
  name: a
  labels: {app: web, tier: front}
spec:
  containers:
  - image: ko://example.com/app/cmd/server
  - image: "pyko://./cmd/worker"
  - image: 'ko://example.com/app/cmd/server'
  - {name: flow, image: ko://example.com/app/cmd/server}
  - image: ko://   # empty: names nothing
---
kind: ConfigMap
metadata: {name: b, labels: {app: db}}
data:
  note: not ko://a/ref in the middle
  key: |
    ko://example.com/app/cmd/server
"""


def test_references_are_found_with_their_lines_and_styles():
    docs = kube.documents("app.yaml", YAML)
    assert len(docs) == 2 and docs[1].first_line == 14
    found = [(r.line, r.style, r.value) for r in sorted(docs[0].refs, key=lambda r: r.start)]
    assert found == [(9, None, "ko://example.com/app/cmd/server"), (10, '"', "pyko://./cmd/worker"),
                     (11, "'", "ko://example.com/app/cmd/server"), (12, None, "ko://example.com/app/cmd/server"),
                     (13, None, "ko://")]
    assert docs[1].refs == ()  # neither prose nor a block scalar is an image reference


def test_replacement_changes_only_the_references():
    docs = kube.documents("app.yaml", YAML)
    digests = {"ko://example.com/app/cmd/server": "reg.io/server@sha256:" + "a" * 64,
               "pyko://./cmd/worker": "reg.io/worker@sha256:" + "b" * 64, "ko://": "x@sha256:" + "c" * 64}
    out = kube.joined(docs, digests)
    first, second = YAML.split("---\n")
    expected = (first.replace("ko://example.com/app/cmd/server", digests["ko://example.com/app/cmd/server"])
                .replace("pyko://./cmd/worker", digests["pyko://./cmd/worker"])
                .replace("ko://   #", digests["ko://"] + "   #"))
    assert out == expected + "---\n" + second  # the second document has no reference: untouched
    assert kube.documents("out.yaml", out)[0].data["spec"]["containers"][3]["image"].startswith("reg.io/server@")


def test_selectors_keep_matching_documents():
    docs = kube.documents("app.yaml", YAML)
    keep = lambda text: [d.data["metadata"]["name"] for d in docs if kube.selected(d, kube.parse_selector(text))]  # noqa: E731
    assert keep("") == ["a", "b"]
    assert keep("app=web") == ["a"] and keep("app==db") == ["b"] and keep("app!=web") == ["b"]
    assert keep("tier") == ["a"] and keep("!tier") == ["b"] and keep("app=web,tier=back") == []
    with pytest.raises(UsageError, match="is not a label requirement"):
        kube.parse_selector("app in (a,b)")


def test_files_are_separated_and_errors_name_the_line(tmp_path):
    one, two = kube.documents("one.yaml", "a: 1"), kube.documents("two.yaml", "b: 2\n")
    assert kube.joined(one + two, {}) == "a: 1\n---\nb: 2\n"
    with pytest.raises(MalformedInput, match=r"bad.yaml:3: not valid YAML"):
        kube.documents("bad.yaml", "a: 1\n---\nb: ]\n")
    docs = kube.documents("app.yaml", YAML)
    with pytest.raises(UsageError, match=r"app.yaml:13: ko:// names no Go main package"):
        kube.build_paths([r for d in docs for r in d.refs], lambda target: "/dir" if target != "" else None)


def test_inputs_from_directories(tmp_path):
    (tmp_path / "a.yaml").write_text("a: 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text("b: 2\n")
    (tmp_path / "notes.txt").write_text("ko://x\n")
    names = lambda recursive: [n for n, _ in kube.read_inputs([str(tmp_path)], recursive, str)]  # noqa: E731
    assert names(False) == [str(tmp_path / "a.yaml")]
    assert names(True) == [str(tmp_path / "a.yaml"), str(tmp_path / "sub" / "b.yml")]
    assert kube.read_inputs(["-"], False, lambda: "c: 3") == [("-", "c: 3")]
    with pytest.raises(UsageError, match="no such file"):
        kube.read_inputs([str(tmp_path / "missing")], False, str)


def _laughs(depth, fan=9):
    """A "billion laughs" document: each anchor is a list of `fan` aliases of the one before."""
    lines = ['a0: &a0 "ko://example.com/lol"']
    for level in range(1, depth + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join(f"*a{level - 1}" for _ in range(fan)) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_costs_its_size_not_its_expansion():
    """Depth 7 of 9 aliases is 4.8 million references once expanded; the old walk took 9 s on it."""
    import time
    import tracemalloc

    from pyko.commands.kube_yaml import documents

    text = _laughs(7)
    assert len(text) < 600
    tracemalloc.start()
    started = time.process_time()
    [doc] = documents("bomb.yaml", text)
    cpu = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [ref.value for ref in doc.refs] == ["ko://example.com/lol"]  # the one scalar, found once
    assert cpu < 1.0 and peak < 20 << 20


def test_a_label_that_is_an_alias_bomb_matches_nothing_and_is_never_expanded():
    import tracemalloc

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, "
              f"*a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 7)]
    text = "\n".join(lines) + "\nkind: Pod\nmetadata:\n  labels:\n    app: *a6\n    tier: web\n"
    (doc,) = kube.documents("bomb.yaml", text)   # 10^7 strings if expanded: about 50 MB of text
    tracemalloc.start()
    assert not kube.selected(doc, kube.parse_selector("app=web"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20
    assert kube.selected(doc, kube.parse_selector("app!=web,tier=web"))
    assert kube.selected(doc, kube.parse_selector("app"))   # it exists; it is just not text


def test_a_path_reference_outside_the_working_directory_is_refused(tmp_path):
    inside, outside = tmp_path / "repo" / "cmd" / "app", tmp_path / "elsewhere"
    inside.mkdir(parents=True)
    outside.mkdir()
    text = "image: ko://../elsewhere\n---\nimage: ko://./cmd/app\n"
    docs = kube.documents("pod.yaml", text)
    located = {"../elsewhere": str(outside), "./cmd/app": str(inside)}
    with pytest.raises(UsageError, match="names a directory outside .*: YAML may build only"):
        kube.build_paths(docs[0].refs, located.get, str(tmp_path / "repo"))
    assert kube.build_paths(docs[1].refs, located.get, str(tmp_path / "repo")) == {"ko://./cmd/app": str(inside)}


def test_many_references_are_all_replaced_in_order():
    text = "".join(f"- image: ko://./cmd/app{n % 7}\n" for n in range(20000))
    (doc,) = kube.documents("many.yaml", text)
    out = kube.replaced(doc, {f"ko://./cmd/app{n}": f"reg.io/app{n}@sha256:{n}" for n in range(7)})
    assert out.splitlines()[19999] == f"- image: reg.io/app{19999 % 7}@sha256:{19999 % 7}"
    assert "ko://" not in out and out.count("\n") == 20000


def test_resolve_documents_builds_each_directory_once_and_fills_in_its_reference(tmp_path):
    from pyko.commands.kube_yaml import resolve_documents

    app = tmp_path / "cmd" / "app"
    app.mkdir(parents=True)
    (app / "main.go").write_text("package main\n")
    (tmp_path / "pods.yaml").write_text(
        "image: ko://./cmd/app\n---\nimage: pyko://./cmd/app  # kept\n---\nimage: nginx\n")
    asked = []

    def build(paths, named_by_ko):
        asked.append((paths, named_by_ko))
        return [f"reg/app@sha256:{'a' * 64}" for _ in paths]

    out = resolve_documents([str(tmp_path / "pods.yaml")], False, "", lambda: "", str(tmp_path), {}, build)
    assert asked == [([str(app)], True)]
    assert out == (f"image: reg/app@sha256:{'a' * 64}\n---\nimage: reg/app@sha256:{'a' * 64}  # kept\n"
                   "---\nimage: nginx\n")


def test_resolve_documents_with_one_name_refuses_several_images(tmp_path):
    from pyko.commands.kube_yaml import resolve_documents

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.go").write_text("package main\n")
    (tmp_path / "pods.yaml").write_text("x: ko://./a\ny: ko://./b\n")
    with pytest.raises(UsageError, match="--name names one image"):
        resolve_documents([str(tmp_path / "pods.yaml")], False, "", lambda: "", str(tmp_path), {},
                          lambda paths, named_by_ko: pytest.fail("nothing is built"), one_name=True)
