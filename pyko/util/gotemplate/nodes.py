"""The parse tree of a template (the node kinds of Go's text/template/parse)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union


@dataclass
class Text:
    pos: int
    text: str


@dataclass
class Dot:
    pos: int

    def __str__(self) -> str:
        return "."


@dataclass
class Nil:
    pos: int

    def __str__(self) -> str:
        return "nil"


@dataclass
class Bool:
    pos: int
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class Number:
    pos: int
    text: str
    value: Union[int, float]     # as Go's idealConstant makes it: int, or float64 for 1.0, 1e3, 0x1p4

    def __str__(self) -> str:
        return self.text


@dataclass
class String:
    pos: int
    quoted: str
    value: str

    def __str__(self) -> str:
        return self.quoted


@dataclass
class Field:
    pos: int
    idents: Tuple[str, ...]      # .A.B -> ("A", "B")

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass
class Variable:
    pos: int
    idents: Tuple[str, ...]      # $x.A -> ("$x", "A")

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass
class Identifier:
    pos: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class Chain:
    pos: int
    node: "Operand"
    fields: Tuple[str, ...]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, Pipe) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass
class Command:
    pos: int
    args: List["Operand"] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, Pipe) else str(a) for a in self.args)


@dataclass
class Pipe:
    pos: int
    decl: List[str] = field(default_factory=list)
    is_assign: bool = False
    cmds: List[Command] = field(default_factory=list)

    def __str__(self) -> str:
        head = ", ".join(self.decl) + (" = " if self.is_assign else " := ") if self.decl else ""
        return head + " | ".join(str(c) for c in self.cmds)


Operand = Union[Dot, Nil, Bool, Number, String, Field, Variable, Identifier, Chain, Pipe]


@dataclass
class Action:
    pos: int
    pipe: Pipe


@dataclass
class Branch:
    """{{if}}, {{with}} or {{range}}: its pipeline, its body and its {{else}}."""
    pos: int
    kind: str                    # "if", "with", "range"
    pipe: Pipe
    body: List["Node"]
    otherwise: Optional[List["Node"]]


@dataclass
class Invoke:
    """{{template "name" pipeline}} (and the call half of {{block}})."""
    pos: int
    name: str
    pipe: Optional[Pipe]


@dataclass
class Loop:
    """{{break}} or {{continue}}."""
    pos: int
    kind: str


Node = Union[Text, Action, Branch, Invoke, Loop]
