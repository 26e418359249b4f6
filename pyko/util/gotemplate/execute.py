"""Executing a parsed template (exec.go's rules): pipelines pass each command's result as the next
one's last argument; a map's field is its key (a missing key is an error: ko's missingkey=error);
variables live until the {{end}} of the block that declared them; a template invoked by name sees
only its argument. pyko adds bounds Go leaves to the caller: nesting depth, steps and output size."""
from __future__ import annotations

from typing import Dict, List, NoReturn, Optional, Sequence, Tuple, Union

from .errors import TemplateError
from .fmt import quote, sprint
from .funcs import BUILTINS, FuncError
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
from .parse import Trees
from .values import GoMap, truth, type_name

MAX_DEPTH = 64               # {{template}} nesting (Go allows 100000; Python's stack does not)
MAX_STEPS = 1_000_000        # nodes walked and iterations, so {{range 1000000000}} ends with an error
MAX_OUTPUT = 1 << 20         # characters a template may produce


class _Missing:
    """No final argument (Go's missingVal): the first command of a pipeline has none."""


MISSING = _Missing()
Final = Union[object, _Missing]


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_KIND_NAMES = {"value": "reflect.Value", "string": "string", "any": "interface {}"}


class State:
    def __init__(self, text: str, trees: Trees, data: object) -> None:
        self.text, self.trees = text, trees
        self.vars: List[Tuple[str, object]] = [("$", data)]
        self.out: List[str] = []
        self.size = self.steps = self.depth = 0
        self.node: object = None

    # -- errors, output, variables
    def fail(self, message: str) -> NoReturn:
        pos = getattr(self.node, "pos", 0)
        shown = str(self.node) if isinstance(self.node, (Dot, Nil, Bool, Number, String, Field, Variable,
                                                          Identifier, Chain, Pipe, Command)) else ""
        raise TemplateError(message, self.text, pos, at=shown[:60])

    def at(self, node: object) -> None:
        self.node = node

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.fail(f"the template takes more than {MAX_STEPS} steps (pyko's bound)")

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            self.fail(f"the template's output is longer than {MAX_OUTPUT} characters (pyko's bound)")
        self.out.append(text)

    def var(self, name: str) -> object:
        for have, value in reversed(self.vars):
            if have == name:
                return value
        self.fail(f"undefined variable: {name}")

    def set_var(self, name: str, value: object) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.fail(f"undefined variable: {name}")

    def set_top(self, n: int, value: object) -> None:
        self.vars[-n] = (self.vars[-n][0], value)

    # -- statements
    def walk(self, dot: object, nodes: Sequence[Node]) -> None:
        for node in nodes:
            self.step()
            if isinstance(node, Text):
                self.write(node.text)
            elif isinstance(node, Action):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.write("<no value>" if value is None else sprint([value]))
            elif isinstance(node, Branch):
                self.branch(dot, node)
            elif isinstance(node, Invoke):
                self.invoke(dot, node)
            elif isinstance(node, Loop):
                raise _Break() if node.kind == "break" else _Continue()

    def branch(self, dot: object, node: Branch) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self.range(dot, node)
                return
            self.at(node)
            value = self.pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.otherwise is not None:
                self.walk(dot, node.otherwise)
        finally:
            del self.vars[mark:]

    def range(self, dot: object, node: Branch) -> None:
        value = self.pipeline(dot, node.pipe)
        decl = node.pipe.decl
        items: List[Tuple[object, object]]
        if value is None:
            items = []
        elif isinstance(value, GoMap):
            items = list(value.sorted_items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            if len(decl) > 1:
                self.fail(f"can't use {value} to iterate over more than one variable")
            items = [(None, i) for i in range(max(0, min(int(value), MAX_STEPS + 1)))]
        else:
            self.at(node)
            self.fail(f"range can't iterate over {sprint([value])}")
        mark = len(self.vars)
        for index, elem in items:
            self.step()
            if decl:
                if node.pipe.is_assign:
                    self.set_var(decl[0], index if len(decl) > 1 else elem)
                    if len(decl) > 1:
                        self.set_var(decl[1], elem)
                else:
                    self.set_top(1, elem)
                    if len(decl) > 1:
                        self.set_top(2, index)
            try:
                self.walk(elem, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[mark:]
        if not items and node.otherwise is not None:
            self.walk(dot, node.otherwise)

    def invoke(self, dot: object, node: Invoke) -> None:
        self.at(node)
        body = self.trees.get(node.name)
        if body is None:
            self.fail(f"template {quote(node.name)} not defined")
        if self.depth >= MAX_DEPTH:
            self.fail(f"exceeded maximum template depth ({MAX_DEPTH})")
        value = self.pipeline(dot, node.pipe) if node.pipe is not None else None
        saved = self.vars
        self.vars, self.depth = [("$", value)], self.depth + 1
        try:
            self.walk(value, body)
        finally:
            self.vars, self.depth = saved, self.depth - 1

    # -- pipelines and commands
    def pipeline(self, dot: object, pipe: Pipe) -> object:
        self.at(pipe)
        value: Final = MISSING
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: object, cmd: Command, final: Final) -> object:
        first = cmd.args[0]
        if isinstance(first, Field):
            self.at(first)
            return self.field_chain(dot, dot, first.idents, cmd.args, final)
        if isinstance(first, Chain):
            return self.chain(dot, first, cmd.args, final)
        if isinstance(first, Identifier):
            return self.call(dot, first, cmd.args, final)
        if isinstance(first, Variable):
            return self.variable(first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, Pipe):
            return self.pipeline(dot, first)
        if isinstance(first, Nil):
            self.fail("nil is not a command")
        if isinstance(first, Dot):
            return dot
        return first.value

    def not_a_function(self, args: Sequence[Operand], final: Final) -> None:
        if len(args) > 1 or final is not MISSING:
            self.fail(f"can't give argument to non-function {args[0]}")

    def field_chain(self, dot: object, receiver: object, idents: Sequence[str], args: Sequence[Operand],
                    final: Final) -> object:
        for name in idents[:-1]:
            receiver = self.field(name, (), MISSING, receiver)
        return self.field(idents[-1], args, final, receiver)

    def field(self, name: str, args: Sequence[Operand], final: Final, receiver: object) -> object:
        if receiver is None:
            self.fail(f"nil data; no entry for key {quote(name)}")
        if isinstance(receiver, GoMap):
            if len(args) > 1 or final is not MISSING:
                self.fail(f"{name} is not a method but has arguments")
            found, value = receiver.value(name)
            if not found:
                self.fail(f"map has no entry for key {quote(name)}")
            return value
        self.fail(f"can't evaluate field {name} in type {type_name(receiver)}")

    def variable(self, node: Variable, args: Sequence[Operand], final: Final) -> object:
        self.at(node)
        value = self.var(node.idents[0])
        if len(node.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.field_chain(None, value, node.idents[1:], args, final)

    def chain(self, dot: object, node: Chain, args: Sequence[Operand], final: Final) -> object:
        self.at(node)
        inner = node.node
        value = self.pipeline(dot, inner) if isinstance(inner, Pipe) else \
            self.call(dot, inner, [inner], MISSING) if isinstance(inner, Identifier) else None
        return self.field_chain(dot, value, node.fields, args, final)

    def call(self, dot: object, ident: Operand, args: Sequence[Operand], final: Final) -> object:
        assert isinstance(ident, Identifier)
        self.at(ident)
        name = ident.name
        (fixed, variadic), function = BUILTINS[name]
        actual = list(args[1:])
        count = len(actual) + (final is not MISSING)
        if variadic is not None and count < len(fixed):
            self.fail(f"wrong number of args for {name}: want at least {len(fixed)} got {len(actual)}")
        if variadic is None and count != len(fixed):
            self.fail(f"wrong number of args for {name}: want {len(fixed)} got {count}")
        if name in ("and", "or"):          # short-circuit: the first false (and) or true (or) argument
            value: object = None
            for arg in actual:
                value = self.arg(dot, "value", arg)
                if truth(value) == (name == "or"):
                    return value
            if final is not MISSING:
                value = self.checked(final, "value")
            return value
        argv = [self.arg(dot, fixed[i] if i < len(fixed) else str(variadic), arg) for i, arg in enumerate(actual)]
        if final is not MISSING:
            argv.append(self.checked(final, fixed[count - 1] if count - 1 < len(fixed) else str(variadic)))
        try:
            return function(argv)
        except FuncError as error:
            self.at(ident)
            self.fail(f"error calling {name}: {error}")

    def arg(self, dot: object, kind: str, node: Operand) -> object:
        self.at(node)
        if isinstance(node, Dot):
            return self.checked(dot, kind)
        if isinstance(node, Nil):
            if kind != "string":
                return None
            self.fail(f"cannot assign nil to {_KIND_NAMES[kind]}")
        if isinstance(node, Field):
            return self.checked(self.field_chain(dot, dot, node.idents, [node], MISSING), kind)
        if isinstance(node, Variable):
            return self.checked(self.variable(node, [], MISSING), kind)
        if isinstance(node, Pipe):
            return self.checked(self.pipeline(dot, node), kind)
        if isinstance(node, Identifier):
            return self.checked(self.call(dot, node, [node], MISSING), kind)
        if isinstance(node, Chain):
            return self.checked(self.chain(dot, node, [], MISSING), kind)
        if kind == "string" and not isinstance(node, String):
            self.fail(f"expected string; found {node}")
        return node.value

    def checked(self, value: object, kind: str) -> object:
        if value is None:
            if kind != "string":
                return None     # a reflect.Value or interface{} parameter takes no value (Go's canBeNil)
            self.fail(f"invalid value; expected {_KIND_NAMES[kind]}")
        if kind == "string" and not isinstance(value, str):
            self.fail(f"wrong type for value; expected string; got {type_name(value)}")
        return value


def execute(text: str, trees: Trees, name: str, data: object) -> str:
    state = State(text, trees, data)
    body: Optional[List[Node]] = trees.get(name)
    if body is None:
        raise TemplateError(f"{quote(name)} is an incomplete or empty template", text, 0)
    try:
        state.walk(data, body)
    except RecursionError:
        raise TemplateError("the template nests too deeply", text, 0) from None
    return "".join(state.out)


Data = Dict[str, object]
