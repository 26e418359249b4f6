"""Go's text/template, as ko evaluates `.ko.yaml`'s flags and ldflags: the whole language (actions,
if/else/with/range, variables, pipelines, define/template/block, comments, trim markers) and its
built-in functions, with missingkey=error. There is no maintained pure-Python implementation for the
Pythons pyko runs on (the PyPI packages wrap Go through cgo, or need Python 3.11), so this one
follows Go's documentation and source, and tests/e2e checks it against real Go on a corpus.

Not supported: complex-number constants (Go accepts `1+2i`; pyko refuses it by name). pyko bounds
what Go leaves unbounded: template nesting, steps and output size (execute.py)."""
from __future__ import annotations

from .errors import TemplateError
from .execute import execute
from .funcs import BUILTINS
from .parse import parse
from .values import GoMap, Int64, Lazy, Uint8

__all__ = ["GoMap", "Int64", "Lazy", "TemplateError", "Uint8", "render"]


def render(text: str, data: GoMap, name: str = "argsTmpl") -> str:
    """`text` executed on `data`, as Go's template.New(name).Option("missingkey=error").Parse(text)
    .Execute would; a TemplateError where Go returns an error."""
    trees = parse(text, name, tuple(BUILTINS))
    return execute(text, trees, name, data)
