"""gotemplate/parse.py: the tree, and what Go refuses at parse time."""
import pytest

from pyko.util.gotemplate.errors import TemplateError
from pyko.util.gotemplate.funcs import BUILTINS
from pyko.util.gotemplate.nodes import Action, Branch, Chain, Field, Identifier, Invoke, Number, Pipe, Text, Variable
from pyko.util.gotemplate.parse import parse


def tree(text):
    return parse(text, "t", tuple(BUILTINS))


def test_a_pipeline_of_commands_with_fields_variables_and_chains():
    [action] = tree('{{ $v := (index .Git "Branch").X | printf "%s" }}')["t"]
    assert isinstance(action, Action)
    pipe = action.pipe
    assert pipe.decl == ["$v"] and not pipe.is_assign and len(pipe.cmds) == 2
    chain = pipe.cmds[0].args[0]
    assert isinstance(chain, Chain) and chain.fields == ("X",) and isinstance(chain.node, Pipe)
    assert isinstance(pipe.cmds[1].args[0], Identifier)
    [field] = tree("{{ .A.B }}")["t"][0].pipe.cmds[0].args
    assert isinstance(field, Field) and field.idents == ("A", "B")
    [var] = tree("{{ $.A }}")["t"][0].pipe.cmds[0].args
    assert isinstance(var, Variable) and var.idents == ("$", "A")


def test_else_if_chains_into_one_end_and_define_and_block_name_templates():
    [branch] = tree("{{if 1}}a{{else if 2}}b{{else}}c{{end}}")["t"]
    assert isinstance(branch, Branch) and branch.kind == "if"
    [inner] = branch.otherwise
    assert isinstance(inner, Branch) and isinstance(inner.otherwise[0], Text)
    trees = tree('{{define "a"}}x{{end}}{{block "b" .}}y{{end}}{{template "a"}}')
    assert set(trees) == {"t", "a", "b"}
    assert [type(n) for n in trees["t"]] == [Invoke, Invoke]


def test_numbers_take_gos_ideal_types():
    values = [n.pipe.cmds[0].args[0].value for n in tree("{{1}}{{1.0}}{{1e3}}{{0x10}}{{017}}{{'a'}}{{1_000}}")["t"]]
    assert values == [1, 1.0, 1000.0, 16, 15, 97, 1000]
    assert [type(v) for v in values] == [int, float, float, int, int, int, int]
    assert isinstance(tree("{{-7}}")["t"][0].pipe.cmds[0].args[0], Number)


@pytest.mark.parametrize("text, says", [
    ("{{ nosuch 1 }}", 'function "nosuch" not defined'),
    ("{{ $x }}", 'undefined variable "\\$x"'),
    ("{{ if 1 }}{{ $y := 1 }}{{ end }}{{ $y }}", 'undefined variable "\\$y"'),
    ("{{ break }}", "outside {{range}}"),
    ("{{ 1 | 2 }}", "non executable command in pipeline stage 2"),
    ("{{ if }}{{ end }}", "missing value for if"),
    ("{{ .X | | }}", "unexpected <\\|> in command"),
    ("{{ end }}", "unexpected {{end}}"),
    ("{{ if 1 }}", "unexpected EOF"),
    ('{{ "a".X }}', "unexpected . after term"),
    ('{{ "\\q" }}', "invalid syntax"),
    ('{{define "a"}}1{{end}}{{define "a"}}2{{end}}', "multiple definition"),
    ("{{ $a, $b := 1 }}", "too many declarations"),
    ("{{ 1i }}", "complex constant"),
])
def test_what_go_refuses_to_parse(text, says):
    with pytest.raises(TemplateError, match=says):
        tree(text)
