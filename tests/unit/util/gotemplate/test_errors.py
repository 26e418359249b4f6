"""gotemplate/errors.py: where an error is, in lines and columns."""
from pyko.util.gotemplate.errors import TemplateError


def test_line_and_column_of_an_offset():
    error = TemplateError("bad", "ab\ncd{{x}}", 5, at="x")
    assert (error.line, error.column) == (2, 3)
    assert str(error) == "line 2, column 3 (at <x>): bad"
    assert str(TemplateError("bad", "abc", 0)) == "line 1, column 1: bad"
