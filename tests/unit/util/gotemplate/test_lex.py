"""gotemplate/lex.py: text and actions, trim markers, comments and the tokens of an action."""
import re

import pytest

from pyko.util.gotemplate.errors import TemplateError
from pyko.util.gotemplate.lex import tokens


def kinds(text):
    return [(t.kind, t.value) for t in tokens(text) if t.kind != "eof"]


def test_text_actions_and_operands():
    assert kinds('a {{ .Env.X | printf "%s" $v }}') == [
        ("text", "a "), ("left", "{{"), ("space", " "), ("field", ".Env"), ("field", ".X"), ("space", " "),
        ("pipe", "|"), ("space", " "), ("identifier", "printf"), ("space", " "), ("string", '"%s"'),
        ("space", " "), ("variable", "$v"), ("space", " "), ("right", "}}")]


def test_keywords_literals_and_declarations():
    assert kinds("{{if $x := 0x1F}}{{else}}{{end}}") == [
        ("left", "{{"), ("if", "if"), ("space", " "), ("variable", "$x"), ("space", " "), ("declare", ":="),
        ("space", " "), ("number", "0x1F"), ("right", "}}"), ("left", "{{"), ("else", "else"), ("right", "}}"),
        ("left", "{{"), ("end", "end"), ("right", "}}")]
    assert [k for k, _ in kinds("{{true nil . 'a' `r` -3}}")][1:-1] == [
        "bool", "space", "nil", "space", "dot", "space", "charconst", "space", "rawstring", "space", "number"]


def test_trim_markers_eat_the_spaces_beside_them_and_a_minus_number_is_not_one():
    assert kinds("a \n {{- 1 -}} \n b") == [("text", "a"), ("left", "{{"), ("number", "1"), ("right", "}}"),
                                             ("text", "b")]
    assert kinds("a {{-3}}") == [("text", "a "), ("left", "{{"), ("number", "-3"), ("right", "}}")]


def test_comments_vanish_and_must_close_the_action():
    assert kinds("x {{- /* c */ -}} y") == [("text", "x"), ("text", "y")]
    with pytest.raises(TemplateError, match="comment ends before closing delimiter"):
        tokens("{{/* c */ 1}}")
    with pytest.raises(TemplateError, match="unclosed comment"):
        tokens("{{/* c }}")


@pytest.mark.parametrize("text, says, column", [
    ("ab {{ .X", "unclosed action", 9),
    ('{{ "abc }}', "unterminated quoted string", 4),
    ("{{ ( }}", "unclosed left paren", 6),
    ("{{ ) }}", "unexpected right paren", 4),
    ("{{ 1a }}", "bad number syntax", 4),
    ("{{ .X- }}", "bad character U+002D", 6),
    ("{{ a : b }}", "expected :=", 6),
    ("{{ \u00e9\u0301 }}", "bad character U+0301", 5),
])
def test_lexical_errors_say_what_and_where(text, says, column):
    with pytest.raises(TemplateError, match=re.escape(says)) as caught:
        tokens(text)
    assert caught.value.column == column
