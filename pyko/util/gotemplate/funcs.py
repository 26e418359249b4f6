"""text/template's built-in functions (funcs.go's builtins), on the values of values.py. The
parameter kinds say how an argument is checked, as Go checks it against the function's signature:
"value" (a reflect.Value: no nil), "any" (nil allowed) and "string"."""
from __future__ import annotations

import urllib.parse
from typing import Callable, Dict, Optional, Sequence, Tuple

from .fmt import sprint, sprintf, sprintln
from .values import GoMap, Uint8, truth, type_name, utf8

Signature = Tuple[Tuple[str, ...], Optional[str]]     # fixed parameter kinds, the variadic one's


class FuncError(Exception):
    """What a built-in returns as its error; Go reports it as "error calling NAME: ..."."""


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Uint8):
        return "uint"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "invalid"


def _eq(args: Sequence[object]) -> bool:
    first, rest = args[0], args[1:]
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _kind(first)
    for other in rest:
        k2 = _kind(other)
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:
                if first == other:
                    return True
            elif first is not None and other is not None:
                raise FuncError(f"incompatible types for comparison: {type_name(first)} and {type_name(other)}")
            continue
        if k1 == "invalid":       # maps, slices and no value: only no value compares, and only to no value
            if first is None or other is None:
                if first is None and other is None:
                    return True
                continue
            if type(first) is not type(other):
                raise FuncError(f"non-comparable types {type_name(first)}, {type_name(other)}")
            raise FuncError(f"non-comparable type {type_name(other)}")
        if first == other:
            return True
    return False


def _lt(args: Sequence[object]) -> bool:
    a, b = args
    k1, k2 = _kind(a), _kind(b)
    if "invalid" in (k1, k2):
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return _numeric(a) < _numeric(b)
        raise FuncError("incompatible types for comparison")
    if k1 == "bool":
        raise FuncError("invalid type for comparison")
    if k1 == "string":
        return utf8(str(a)) < utf8(str(b))
    return _numeric(a) < _numeric(b)


def _numeric(value: object) -> float:
    assert isinstance(value, (int, float))
    return value


def _le(args: Sequence[object]) -> bool:
    return _lt(args) or _eq(args)


def _position(index: object, cap: int) -> int:
    if index is None:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return int(index)


def _index(args: Sequence[object]) -> object:
    item = args[0]
    if item is None:
        raise FuncError("index of untyped nil")
    for index in args[1:]:
        if isinstance(item, GoMap):
            if index is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(index, str):
                raise FuncError(f"value has type {type_name(index)}; should be string")
            item = item.value(index)[1]
        elif isinstance(item, (str, list)):
            data = utf8(item) if isinstance(item, str) else item
            at = _position(index, len(data))
            if at >= len(data):
                raise FuncError(f"reflect: {'string' if isinstance(item, str) else 'slice'} index out of range")
            item = Uint8(data[at]) if isinstance(data, bytes) else data[at]
        elif item is None:
            raise FuncError("index of untyped nil")
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def _slice(args: Sequence[object]) -> object:
    item, indexes = args[0], args[1:]
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, (str, list)):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise FuncError("cannot 3-index slice a string")
    data = utf8(item) if isinstance(item, str) else item
    bounds = [0, len(data), len(data)]
    for i, index in enumerate(indexes):
        bounds[i] = _position(index, len(data))
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(indexes) == 3 and bounds[1] > bounds[2]:
        raise FuncError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    part = data[bounds[0]:bounds[1]]
    return part.decode("utf-8", "surrogateescape") if isinstance(part, bytes) else part


def _len(args: Sequence[object]) -> int:
    item = args[0]
    if item is None:
        raise FuncError("len of nil")
    if isinstance(item, str):
        return len(utf8(item))
    if isinstance(item, (dict, list)):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def _as_text(args: Sequence[object]) -> str:
    """evalArgs: one string as it is, else fmt.Sprint with "<no value>" for nil."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None else a for a in args])


_HTML = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def _js(text: str) -> str:
    out = []
    for ch in text:
        if ch in _JS:
            out.append(_JS[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04X}")
        elif ord(ch) >= 0x80 and not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _call(args: Sequence[object]) -> object:
    if args[0] is None:
        raise FuncError("call of nil")
    raise FuncError(f"non-function of type {type_name(args[0])}")    # template data holds no functions


BUILTINS: Dict[str, Tuple[Signature, Callable[[Sequence[object]], object]]] = {
    "and": ((("value",), "value"), lambda a: a[-1]),        # short-circuited by the evaluator
    "or": ((("value",), "value"), lambda a: a[-1]),
    "not": ((("value",), None), lambda a: not truth(a[0])),
    "len": ((("value",), None), _len),
    "index": ((("value",), "value"), _index),
    "slice": ((("value",), "value"), _slice),
    "print": (((), "any"), sprint),
    "println": (((), "any"), sprintln),
    "printf": ((("string",), "any"), lambda a: sprintf(str(a[0]), a[1:])),
    "html": (((), "any"), lambda a: "".join(_HTML.get(c, c) for c in _as_text(a))),
    "js": (((), "any"), lambda a: _js(_as_text(a))),
    "urlquery": (((), "any"), lambda a: urllib.parse.quote_plus(_as_text(a), safe="")),
    "eq": ((("value",), "value"), _eq),
    "ne": ((("value", "value"), None), lambda a: not _eq(a)),
    "lt": ((("value", "value"), None), _lt),
    "le": ((("value", "value"), None), _le),
    "gt": ((("value", "value"), None), lambda a: not _le(a)),
    "ge": ((("value", "value"), None), lambda a: not _lt(a)),
    "call": ((("value",), "value"), _call),
}
