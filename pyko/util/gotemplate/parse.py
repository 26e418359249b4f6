"""The parser of Go's text/template (parse/parse.go's grammar and checks): the main template and
the ones {{define}} and {{block}} name, with variables checked in scope and functions by name."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple, Union

from .errors import TemplateError
from .fmt import quote
from .lex import Token, tokens
from .nodes import (
    Action,
    Bool,
    Branch,
    Chain,
    Command,
    Dot,
    Field,
    Identifier,
    Invoke,
    Loop,
    Nil,
    Node,
    Number,
    Operand,
    Pipe,
    String,
    Text,
    Variable,
)

Trees = Dict[str, List[Node]]
_OPERAND_STARTS = ("bool", "charconst", "complex", "dot", "field", "identifier", "number", "nil",
                   "rawstring", "string", "variable", "lparen")
_NOT_EXECUTABLE = (Bool, Dot, Nil, Number, String)


class _Parser:
    def __init__(self, text: str, functions: Tuple[str, ...], trees: Trees) -> None:
        self.text, self.functions, self.trees = text, functions, trees
        self.toks = tokens(text)
        self.i = 0
        self.vars: List[str] = ["$"]
        self.range_depth = 0

    # -- tokens
    def fail(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, self.text, pos)

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def peek(self) -> Token:
        return self.toks[self.i]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.i -= 1
        return tok

    def expect(self, kind: str, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind != kind:
            raise self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str) -> TemplateError:
        shown = "EOF" if tok.kind == "eof" else f"<{tok.value}>" if tok.kind != "text" else repr(tok.value)
        return self.fail(f"unexpected {shown} in {context}", tok.pos)

    # -- lists and actions
    def parse(self, name: str) -> None:
        root: List[Node] = []
        while self.peek().kind != "eof":
            if self.peek().kind == "left":
                mark = self.i
                self.next()
                if self.next_non_space().kind == "define":
                    self.definition()
                    continue
                self.i = mark
            node = self.text_or_action()
            if isinstance(node, str):
                raise self.fail(f"unexpected {{{{{node}}}}}", self.toks[self.i - 1].pos)
            root.append(node)
        self.add(name, root)

    def add(self, name: str, body: List[Node]) -> None:
        old = self.trees.get(name)
        if old is not None and not _empty(old):
            if not _empty(body):
                raise self.fail(f"template: multiple definition of template {quote(name)}", 0)
            return
        self.trees[name] = body

    def definition(self) -> None:
        saved_vars, self.vars = self.vars, ["$"]
        name = self.template_name(self.next_non_space(), "define clause")
        self.expect("right", "define clause")
        body, end = self.item_list()
        if end != "end":
            raise self.fail(f"unexpected {{{{{end}}}}} in define clause", self.toks[self.i - 1].pos)
        self.add(name, body)
        self.vars = saved_vars

    def item_list(self) -> Tuple[List[Node], str]:
        """Nodes up to {{end}} or {{else}}; returns which ended the list."""
        items: List[Node] = []
        while self.peek_non_space().kind != "eof":
            node = self.text_or_action()
            if isinstance(node, str):
                return items, node
            items.append(node)
        raise self.fail("unexpected EOF", len(self.text))

    def text_or_action(self) -> Union[Node, str]:
        tok = self.next_non_space()
        if tok.kind == "text":
            return Text(tok.pos, tok.value)
        if tok.kind == "left":
            return self.action()
        raise self.unexpected(tok, "input")

    def action(self) -> Union[Node, str]:
        tok = self.next_non_space()
        if tok.kind in ("if", "with", "range"):
            return self.control(tok)
        if tok.kind in ("break", "continue"):
            end = self.next_non_space()
            if end.kind != "right":
                raise self.unexpected(end, f"{{{{{tok.kind}}}}}")
            if not self.range_depth:
                raise self.fail(f"{{{{{tok.kind}}}}} outside {{{{range}}}}", tok.pos)
            return Loop(tok.pos, tok.kind)
        if tok.kind == "end":
            self.expect("right", "end")
            return "end"
        if tok.kind == "else":
            following = self.peek_non_space().kind
            if following not in ("if", "with"):
                self.expect("right", "else")
                return "else"
            return "else " + following
        if tok.kind in ("template", "block"):
            return self.invoke(tok)
        self.i -= 1
        start = self.peek()
        return Action(start.pos, self.pipeline("command", "right"))

    def control(self, tok: Token) -> Branch:
        context = tok.kind
        depth = len(self.vars)
        pipe = self.pipeline(context, "right")
        if context == "range":
            self.range_depth += 1
        body, end = self.item_list()
        if context == "range":
            self.range_depth -= 1
        otherwise: Optional[List[Node]] = None
        if end == f"else {context}":             # {{else if}} / {{else with}}: one {{end}} closes both
            chained = self.next_non_space()
            otherwise = [self.control(chained)]
        elif end.startswith("else"):
            if end != "else":
                self.i -= 1   # {{else if}} in a range or with: Go reads it as {{else}} then an unexpected if
                raise self.unexpected(self.next_non_space(), "else")
            otherwise, end = self.item_list()
            if end != "end":
                raise self.fail(f"expected end; found {{{{{end}}}}}", self.toks[self.i - 1].pos)
        del self.vars[depth:]
        return Branch(tok.pos, context, pipe, body, otherwise)

    def template_name(self, tok: Token, context: str) -> str:
        if tok.kind not in ("string", "rawstring"):
            raise self.unexpected(tok, context)
        return _unquote(tok, self)

    def invoke(self, tok: Token) -> Invoke:
        context = "template clause" if tok.kind == "template" else "block clause"
        name = self.template_name(self.next_non_space(), context)
        pipe: Optional[Pipe] = None
        if self.next_non_space().kind != "right":
            self.i -= 1
            pipe = self.pipeline(context, "right")
        if tok.kind == "block":
            saved_vars, saved_depth = self.vars, self.range_depth
            self.vars, self.range_depth = ["$"], 0
            body, end = self.item_list()
            if end != "end":
                raise self.fail(f"unexpected {{{{{end}}}}} in block clause", self.toks[self.i - 1].pos)
            self.add(name, body)
            self.vars, self.range_depth = saved_vars, saved_depth
        return Invoke(tok.pos, name, pipe)

    # -- pipelines
    def pipeline(self, context: str, end: str) -> Pipe:
        pipe = Pipe(self.peek_non_space().pos)
        self.declarations(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                self.check(pipe, context, tok)
                return pipe
            if tok.kind not in _OPERAND_STARTS:
                raise self.unexpected(tok, context)
            self.i -= 1
            pipe.cmds.append(self.command())

    def declarations(self, pipe: Pipe, context: str) -> None:
        while self.peek_non_space().kind == "variable":
            mark = self.i
            var = self.next_non_space()
            following = self.peek_non_space()
            if following.kind in ("assign", "declare"):
                self.next_non_space()
                pipe.is_assign = following.kind == "assign"
                pipe.decl.append(var.value)
                self.vars.append(var.value)
                return
            if following.kind == "char" and following.value == ",":
                self.next_non_space()
                pipe.decl.append(var.value)
                self.vars.append(var.value)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in ("variable", "right", "rparen"):
                        continue
                    raise self.fail("range can only initialize variables", following.pos)
                raise self.fail(f"too many declarations in {context}", following.pos)
            self.i = mark
            return

    def check(self, pipe: Pipe, context: str, tok: Token) -> None:
        if not pipe.cmds:
            raise self.fail(f"missing value for {context}", tok.pos)
        for stage, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], _NOT_EXECUTABLE):
                raise self.fail(f"non executable command in pipeline stage {stage}", cmd.pos)

    def command(self) -> Command:
        cmd = Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            while self.peek().kind == "space":
                self.next()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind == "space":
                continue
            if tok.kind in ("right", "rparen"):
                self.i -= 1
            elif tok.kind != "pipe":
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.fail("empty command", cmd.pos)
        return cmd

    def operand(self) -> Optional[Operand]:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        fields: List[str] = []
        while self.peek().kind == "field":
            fields.append(self.next().value[1:])
        if isinstance(node, Field):
            return Field(node.pos, node.idents + tuple(fields))
        if isinstance(node, Variable):
            return Variable(node.pos, node.idents + tuple(fields))
        if isinstance(node, (Bool, String, Number, Nil, Dot)):
            raise self.fail(f"unexpected . after term {quote(str(node))}", node.pos)
        return Chain(node.pos, node, tuple(fields))

    def term(self) -> Optional[Operand]:
        tok = self.next_non_space()
        kind = tok.kind
        if kind == "identifier":
            if tok.value not in self.functions:
                raise self.fail(f"function {quote(tok.value)} not defined", tok.pos)
            return Identifier(tok.pos, tok.value)
        if kind == "dot":
            return Dot(tok.pos)
        if kind == "nil":
            return Nil(tok.pos)
        if kind == "variable":
            idents = tuple(tok.value.split("."))
            if idents[0] not in self.vars:
                raise self.fail(f"undefined variable {quote(idents[0])}", tok.pos)
            return Variable(tok.pos, idents)
        if kind == "field":
            return Field(tok.pos, (tok.value[1:],))
        if kind == "bool":
            return Bool(tok.pos, tok.value == "true")
        if kind in ("charconst", "number", "complex"):
            return Number(tok.pos, tok.value, _number(tok, self))
        if kind == "lparen":
            return self.pipeline("parenthesized pipeline", "rparen")
        if kind in ("string", "rawstring"):
            return String(tok.pos, tok.value, _unquote(tok, self))
        self.i -= 1
        return None


def _empty(body: List[Node]) -> bool:
    return all(isinstance(n, Text) and not n.text.strip(" \t\r\n") for n in body)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote(tok: Token, parser: _Parser) -> str:
    """strconv.Unquote: a Go string, raw string or character literal's value."""
    quoted = tok.value
    if tok.kind == "rawstring":
        return quoted[1:-1].replace("\r", "")
    quote, body, i = quoted[0], quoted[1:-1], 0
    out = bytearray()           # \x and octal escapes are bytes in Go, not code points
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            if ch == quote:
                raise parser.fail("invalid syntax", tok.pos)
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        esc = body[i + 1]
        if esc in _ESCAPES or esc == quote:
            out += _ESCAPES.get(esc, esc).encode()
            i += 2
        elif esc in "xuU01234567":
            size, base = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}.get(esc, (3, 8))
            digits = body[i + 2:i + 2 + size] if esc in "xuU" else body[i + 1:i + 1 + size]
            valid = "0123456789abcdefABCDEF" if base == 16 else "01234567"
            if len(digits) != size or any(d not in valid for d in digits):
                raise parser.fail("invalid syntax", tok.pos)
            code = int(digits, base)
            if code > 0x10FFFF or (esc in "uU" and 0xD800 <= code < 0xE000) or (base == 8 and code > 255):
                raise parser.fail("invalid syntax", tok.pos)
            out += chr(code).encode() if esc in "uU" else bytes([code])
            i += (2 if esc in "xuU" else 1) + size
        else:
            raise parser.fail("invalid syntax", tok.pos)
    value = out.decode("utf-8", "surrogateescape")
    if quote == "'" and len(value) != 1:
        raise parser.fail(f"malformed character constant: {quoted}", tok.pos)
    return value


_OCTAL = re.compile(r"[+-]?0[0-7_]+")
_INTEGER = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")


def _number(tok: Token, parser: _Parser) -> Union[int, float]:
    """Go's idealConstant: an int when the text is an integer that fits, else a float64."""
    text = tok.value
    if tok.kind == "charconst":
        return ord(_unquote(tok, parser))
    if tok.kind == "complex" or text.endswith("i"):
        raise parser.fail(f"complex constant {text} is not supported by pyko", tok.pos)
    try:
        if _INTEGER.fullmatch(text) and not (text.lower().startswith(("0x", "+0x", "-0x")) and "p" in text.lower()):
            value = int(text.replace("_", ""), 8) if _OCTAL.fullmatch(text) else int(text, 0)
            if not -(1 << 63) <= value < (1 << 63):
                raise parser.fail(f"{text} overflows int", tok.pos)
            return value
        if "x" in text.lower():
            return float.fromhex(text.replace("_", ""))
        return float(text)
    except ValueError:
        raise parser.fail(f"illegal number syntax: {quote(text)}", tok.pos) from None


def parse(text: str, name: str, functions: Tuple[str, ...]) -> Trees:
    """The templates `text` defines: `name` for its body, and each {{define}} and {{block}}."""
    trees: Trees = {}
    _Parser(text, functions, trees).parse(name)
    return trees
