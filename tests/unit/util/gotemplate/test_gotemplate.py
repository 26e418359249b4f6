"""util/gotemplate: Go's text/template, checked against Go's own answers. tests/data/gotemplate/
golden.json holds what Go (text/template with missingkey=error, on ko's data types) renders, or
refuses, for each template of a corpus: every form ko's docs show, each action, function, verb and
error Go's documentation describes. tests/e2e/test_gotemplate_with_go.py re-runs the corpus through
real Go and checks the file still says what Go says."""
import json
import os

import pytest

from pyko.util.gotemplate import GoMap, Int64, TemplateError, render
from pyko.util.gotemplate.execute import MAX_DEPTH, MAX_OUTPUT

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "gotemplate", "golden.json")


def oracle_data():
    """The data oracle.go passes to Go: the same values, with the same Go types."""
    return GoMap({
        "Env": GoMap({"LDFLAGS": "", "VERSION": "v1.2.3", "EMPTY": "", "LD_FLAGS": "-s -w",
                      "QUOTE": "it's \"q\" <&>=\\", "UNI": "héllo wörld\x01", "NUM": "42",
                      "SPACE": "a b+c/d?e"}, "string"),
        "GoEnv": GoMap({"GOARCH": "arm64", "GOOS": "linux", "CGO_ENABLED": "0", "GOFLAGS": ""}, "string"),
        "Git": GoMap({"Branch": "main", "Tag": "v0.0.0", "ShortCommit": "abc1234",
                      "FullCommit": "abc1234def5678abc1234def5678abc1234def56",
                      "CommitDate": "2026-01-02T03:04:05Z", "CommitTimestamp": Int64(1767323045),
                      "IsDirty": False, "IsClean": True, "TreeState": "clean"}),
        "Date": "2026-12-04T00:00:00Z",
        "Timestamp": Int64(1764806400),
    })


def _golden():
    with open(GOLDEN, encoding="utf-8") as f:
        return json.load(f)


def test_the_corpus_is_large_and_has_both_outcomes():
    cases = _golden()
    assert len(cases) > 250
    assert sum(c["error"] for c in cases) > 60 and sum(not c["error"] for c in cases) > 150


@pytest.mark.parametrize("case", _golden(), ids=lambda c: c["template"][:60])
def test_pyko_renders_or_refuses_as_go_does(case):
    if case["error"]:
        with pytest.raises(TemplateError):
            render(case["template"], oracle_data())
    else:
        assert render(case["template"], oracle_data()) == case["out"]


def test_an_error_says_where():
    with pytest.raises(TemplateError) as caught:
        render('-X a=b\n-X c={{ .Env.NOPE }}', oracle_data())
    assert str(caught.value) == 'line 2, column 9 (at <.Env.NOPE>): map has no entry for key "NOPE"'


def test_complex_constants_are_refused_by_name():
    with pytest.raises(TemplateError, match="complex constant 1i is not supported"):
        render("{{ 1i }}", oracle_data())


@pytest.mark.parametrize("text, says", [
    ("{{range 100000000}}{{end}}", "more than 1000000 steps"),
    ('{{range 1000}}{{printf "%2000s" "x"}}{{end}}', "output is longer than"),
    ('{{define "a"}}{{template "a"}}{{end}}{{template "a"}}', "maximum template depth"),
])
def test_pyko_bounds_what_go_leaves_unbounded(text, says):
    with pytest.raises(TemplateError, match=says):
        render(text, oracle_data())
    assert MAX_DEPTH < 100 and MAX_OUTPUT <= 1 << 20
