"""gotemplate/execute.py: pipelines, scopes, range, templates, and pyko's bounds."""
import pytest

from pyko.util.gotemplate import GoMap, Lazy, TemplateError, render
from pyko.util.gotemplate.execute import MAX_DEPTH, MAX_STEPS


def data(**more):
    return GoMap({"Env": GoMap({"A": "a", "E": ""}, "string"), "N": GoMap({}), **more})


def test_the_previous_result_is_the_last_argument():
    assert render('{{ .Env.A | printf "%s-%s" "x" }}', data()) == "x-a"


def test_a_variable_lives_until_the_end_of_its_block_and_assignment_reaches_outer_ones():
    assert render("{{$v := 1}}{{range 3}}{{$v = .}}{{end}}{{$v}}", data()) == "2"
    assert render("{{with $x := .Env.A}}{{$x}}{{$.Env.A}}{{end}}", data()) == "aa"


def test_range_over_maps_in_key_order_with_break_continue_and_else():
    m = GoMap({"b": 2, "a": 1, "c": 3})
    assert render("{{range $k, $v := .M}}{{if eq $k \"b\"}}{{continue}}{{end}}{{$k}}{{$v}}{{end}}", data(M=m)) == \
        "a1c3"
    assert render("{{range .M}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", data(M=m)) == "1"
    assert render("{{range .N}}x{{else}}empty{{end}}", data()) == "empty"


def test_a_missing_key_is_an_error_but_index_gives_the_zero_value():
    with pytest.raises(TemplateError, match='map has no entry for key "Z"'):
        render("{{.Env.Z}}", data())
    assert render('[{{index .Env "Z"}}][{{index .N "Z"}}]', data()) == "[][<no value>]"


def test_lazy_values_are_computed_once_and_only_when_read():
    calls = []

    def compute():
        calls.append(1)
        return "v"

    d = data(L=Lazy(compute))
    assert render("{{.Env.A}}", d) == "a" and not calls
    assert render("{{.L}}{{.L}}", d) == "vv" and calls == [1]


def test_templates_see_only_their_argument():
    assert render('{{define "t"}}{{.}}{{$}}{{end}}{{template "t" .Env.A}}', data()) == "aa"
    with pytest.raises(TemplateError, match='template "u" not defined'):
        render('{{template "u"}}', data())


def test_bounds():
    with pytest.raises(TemplateError, match=f"maximum template depth \\({MAX_DEPTH}\\)"):
        render('{{define "a"}}{{template "a"}}{{end}}{{template "a"}}', data())
    with pytest.raises(TemplateError, match=f"more than {MAX_STEPS} steps"):
        render("{{range 2000000}}{{end}}", data())
