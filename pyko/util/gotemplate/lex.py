"""The lexer of Go's text/template, as its documentation and parse/lex.go describe it: text and
actions between {{ and }}, trim markers ({{- and -}}), comments, and the tokens inside an action."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from .errors import TemplateError
from .fmt import quote

LEFT, RIGHT, COMMENT = "{{", "}}", "/*"
SPACES = " \t\r\n"
KEYWORDS = ("block", "break", "continue", "define", "else", "end", "if", "range", "template", "with")
_TERMINATORS = SPACES + ".,|:()"


@dataclass(frozen=True)
class Token:
    kind: str       # text, left, right, space, assign, declare, pipe, lparen, rparen, char, string,
    #                 rawstring, charconst, number, complex, field, variable, identifier, bool, nil, dot,
    #                 a keyword, eof
    value: str
    pos: int        # offset in the template


def _alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


def _printable_ascii(ch: str) -> bool:
    return " " <= ch <= "~"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.parens = text, 0, 0
        self.tokens: List[Token] = []

    def fail(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, self.text, pos)

    def emit(self, kind: str, start: int) -> None:
        self.tokens.append(Token(kind, self.text[start:self.pos], start))

    def at_right(self) -> Tuple[bool, bool]:
        """(at the closing delimiter, with a trim marker before it)."""
        rest = self.text[self.pos:]
        if len(rest) >= 2 and rest[0] in SPACES and rest[1] == "-" and rest[2:].startswith(RIGHT):
            return True, True
        return rest.startswith(RIGHT), False

    def run(self) -> List[Token]:
        text = self.text
        while self.pos < len(text):
            found = text.find(LEFT, self.pos)
            if found < 0:
                self.tokens.append(Token("text", text[self.pos:], self.pos))
                self.pos = len(text)
                break
            after = text[found + 2:]
            trim = len(after) >= 2 and after[0] == "-" and after[1] in SPACES
            chunk = text[self.pos:found]
            if trim:
                chunk = chunk.rstrip(SPACES)
            if chunk:
                self.tokens.append(Token("text", chunk, self.pos))
            self.pos = found + 2 + (2 if trim else 0)
            if text.startswith(COMMENT, self.pos):
                self.comment(found)
            else:
                self.tokens.append(Token("left", LEFT, found))
                self.action()
        self.tokens.append(Token("eof", "", len(text)))
        return self.tokens

    def skip_after_right(self, trim: bool) -> None:
        self.pos += (2 if trim else 0) + len(RIGHT)
        if trim:
            while self.pos < len(self.text) and self.text[self.pos] in SPACES:
                self.pos += 1

    def comment(self, start: int) -> None:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            raise self.fail("unclosed comment", start)
        self.pos = end + 2
        at, trim = self.at_right()
        if not at:
            raise self.fail("comment ends before closing delimiter", start)
        self.skip_after_right(trim)

    def action(self) -> None:
        text = self.text
        while True:
            at, trim = self.at_right()
            if at:
                if self.parens:
                    raise self.fail("unclosed left paren", self.pos)
                self.tokens.append(Token("right", RIGHT, self.pos))
                self.skip_after_right(trim)
                return
            if self.pos >= len(text):
                raise self.fail("unclosed action", self.pos)
            self.token()

    def token(self) -> None:
        text, start = self.text, self.pos
        ch = text[start]
        self.pos += 1
        if ch in SPACES:
            self.space(start)
        elif ch == "=":
            self.emit("assign", start)
        elif ch == ":":
            if text[self.pos:self.pos + 1] != "=":
                raise self.fail("expected :=", start)
            self.pos += 1
            self.emit("declare", start)
        elif ch == "|":
            self.emit("pipe", start)
        elif ch == '"':
            self.quoted(start, '"', "string", "unterminated quoted string")
        elif ch == "`":
            end = text.find("`", self.pos)
            if end < 0:
                raise self.fail("unterminated raw quoted string", start)
            self.pos = end + 1
            self.emit("rawstring", start)
        elif ch == "'":
            self.quoted(start, "'", "charconst", "unterminated character constant")
        elif ch == "$":
            self.field_or_variable(start, "variable")
        elif ch == "." and not (self.pos < len(text) and "0" <= text[self.pos] <= "9"):
            self.field_or_variable(start, "field")
        elif ch in "+-." or "0" <= ch <= "9":
            self.number(start)
        elif _alnum(ch):
            self.identifier(start)
        elif ch == "(":
            self.parens += 1
            self.emit("lparen", start)
        elif ch == ")":
            self.parens -= 1
            if self.parens < 0:
                raise self.fail("unexpected right paren", start)
            self.emit("rparen", start)
        elif _printable_ascii(ch):
            self.emit("char", start)
        else:
            raise self.fail(f"unrecognized character in action: U+{ord(ch):04X}", start)

    def space(self, start: int) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in SPACES:
            self.pos += 1
        # A space followed by "-}}" is the closing trim marker's, not a token of its own.
        rest = self.text[self.pos - 1:]
        if len(rest) >= 2 and rest[1] == "-" and rest[2:].startswith(RIGHT):
            self.pos -= 1
            if self.pos == start:
                return
        self.emit("space", start)

    def quoted(self, start: int, quote: str, kind: str, unterminated: str) -> None:
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.fail(unterminated, start)
            ch = text[self.pos]
            self.pos += 1
            if ch == "\\":
                if self.pos >= len(text) or text[self.pos] == "\n":
                    raise self.fail(unterminated, start)
                self.pos += 1
            elif ch == quote:
                break
        self.emit(kind, start)

    def at_terminator(self) -> bool:
        if self.pos >= len(self.text):
            return True
        return self.text[self.pos] in _TERMINATORS or self.text.startswith(RIGHT, self.pos)

    def field_or_variable(self, start: int, kind: str) -> None:
        if self.at_terminator():
            self.emit("variable" if kind == "variable" else "dot", start)
            return
        while self.pos < len(self.text) and _alnum(self.text[self.pos]):
            self.pos += 1
        if not self.at_terminator():
            raise self.fail(f"bad character U+{ord(self.text[self.pos]):04X}", self.pos)
        self.emit(kind, start)

    def identifier(self, start: int) -> None:
        while self.pos < len(self.text) and _alnum(self.text[self.pos]):
            self.pos += 1
        if not self.at_terminator():
            raise self.fail(f"bad character U+{ord(self.text[self.pos]):04X}", self.pos)
        word = self.text[start:self.pos]
        if word in KEYWORDS:
            self.emit(word, start)
        elif word in ("true", "false"):
            self.emit("bool", start)
        elif word == "nil":
            self.emit("nil", start)
        else:
            self.emit("identifier", start)

    def accept(self, chars: str) -> bool:
        if self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
            return True
        return False

    def run_of(self, chars: str) -> None:
        while self.accept(chars):
            pass

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.run_of(digits)
        if self.accept("."):
            self.run_of(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.run_of("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.run_of("0123456789_")
        self.accept("i")
        if self.pos < len(self.text) and _alnum(self.text[self.pos]):
            self.pos += 1
            return False
        return True

    def number(self, start: int) -> None:
        self.pos = start
        if not self.scan_number():
            raise self.fail(f"bad number syntax: {quote(self.text[start:self.pos])}", start)
        if self.pos < len(self.text) and self.text[self.pos] in "+-":
            if not self.scan_number() or self.text[self.pos - 1] != "i":
                raise self.fail(f"bad number syntax: {quote(self.text[start:self.pos])}", start)
            self.emit("complex", start)
        else:
            self.emit("number", start)


def tokens(text: str) -> List[Token]:
    return _Lexer(text).run()
