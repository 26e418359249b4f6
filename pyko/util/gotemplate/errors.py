"""The one error of the template package: what went wrong, in which template, and where."""
from __future__ import annotations


class TemplateError(Exception):
    """A template Go would refuse to parse or execute, with the line and column of the cause."""

    def __init__(self, message: str, text: str, pos: int, at: str = "") -> None:
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        self.message, self.line, self.column = message, line, column
        where = f"line {line}, column {column}" + (f" (at <{at}>)" if at else "")
        super().__init__(f"{where}: {message}")
