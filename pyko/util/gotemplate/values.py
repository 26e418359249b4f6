"""Go's values as the template package sees them: Python str, bool, int, float, list and None (no
value), with GoMap for a map (its element type decides what a missing key's zero value is) and int
types Go prints differently (Int64, Uint8)."""
from __future__ import annotations

from typing import Callable, Dict, Iterator, Tuple


class Int64(int):
    """An int64 (ko's .Timestamp); Go prints its type as int64 in %T-like messages."""


class Uint8(int):
    """A byte, what indexing a string gives."""


class Lazy:
    """A map value computed when first read (a git or `go env` answer a template may never use)."""

    def __init__(self, compute: Callable[[], object]) -> None:
        self.compute = compute


class GoMap(Dict[str, object]):
    """A map[string]T; `elem` is T's name: "string" (zero value "") or "interface {}" (zero: none)."""

    def __init__(self, entries: Dict[str, object], elem: str = "interface {}") -> None:
        super().__init__(entries)
        self.elem = elem

    @property
    def zero(self) -> object:
        return "" if self.elem == "string" else None

    def value(self, key: str) -> Tuple[bool, object]:
        if key not in self:
            return False, self.zero
        found = dict.__getitem__(self, key)
        if isinstance(found, Lazy):
            found = found.compute()
            self[key] = found
        return True, found

    def sorted_items(self) -> Iterator[Tuple[str, object]]:
        for key in sorted(self, key=lambda k: k.encode()):
            yield key, self.value(key)[1]


def utf8(text: str) -> bytes:
    """A Go string's bytes: \\x escapes that are not UTF-8 are kept as Python's surrogate escapes."""
    return text.encode("utf-8", "surrogateescape")


def type_name(value: object) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, Uint8):
        return "uint8"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoMap):
        return f"map[string]{value.elem}"
    return "[]interface {}"


def truth(value: object) -> bool:
    """Go's isTrue: false, 0, "", an empty map or slice, and no value are false."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if isinstance(value, (str, dict, list)):
        return len(value) > 0
    return True
