"""The part of Go's fmt that templates reach: print, println and printf of template values
(strings, integers, floats, booleans, maps, slices, nil), with Go's flags, widths, precisions and
its %!verb(type=value) forms for a verb that does not fit its operand."""
from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import List, Sequence, Tuple

from .values import GoMap, Uint8, type_name, utf8

_SPEC = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\*|\d*))?(.?)", re.S)


def quote(text: str, ascii_only: bool = False, mark: str = '"') -> str:
    """strconv.Quote (QuoteToASCII with ascii_only; QuoteRune's form with mark "'")."""
    out = [mark]
    for ch in text:
        code = ord(ch)
        if ch == mark or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable() and not (ascii_only and code >= 0x80):
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out) + mark


def _float_v(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64): the shortest digits, in %e form when the exponent
    is below -4 or at least 6 (Go's rule for the shortest form)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len(digits) + exponent       # where the decimal point goes in `text`
    neg = "-" if sign else ""
    if value == 0:
        return neg + "0"
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return neg + text + "0" * (point - len(text))
    return f"{neg}{text[:point]}.{text[point:]}"


def _pyformat(value: float, verb: str, prec: int) -> str:
    out = format(value, f".{prec}{verb}")
    if verb in "gG" and "e" in out.lower():
        mant, _, exp = out.partition("e" if "e" in out else "E")
        out = f"{mant}{'e' if verb == 'g' else 'E'}{exp[0]}{int(exp[1:]):02d}"
    return out


class _Spec:
    def __init__(self, flags: str, width: int, prec: int, verb: str) -> None:
        self.flags, self.width, self.prec, self.verb = flags, width, prec, verb

    def pad(self, text: str, numeric: bool = False, zeros: bool = True) -> str:
        """Padded to the width: spaces, or zeros after the sign with the 0 flag (an integer with a
        precision is padded with spaces, as in Go)."""
        if len(text) >= self.width:
            return text
        fill = self.width - len(text)
        if "-" in self.flags:
            return text + " " * fill
        if "0" in self.flags and zeros:
            sign = text[0] if numeric and text[:1] in "+- " and text[:1] != "" else ""
            return sign + "0" * fill + text[len(sign):]
        return " " * fill + text


def _bad(verb: str, value: object) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={format_value(value, _Spec('', 0, -1, 'v'))})"


def _integer(value: int, spec: _Spec) -> str:
    verb, flags = spec.verb, spec.flags
    if verb == "c":
        return spec.pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd")
    if verb == "q":
        return spec.pad(quote(chr(value), "+" in flags, "'") if 0 <= value <= 0x10FFFF else "'\ufffd'")
    if verb == "U":
        body = f"U+{value:04X}"
        if "#" in flags and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            body += f" '{chr(value)}'"
        return spec.pad(body)
    base = {"d": "d", "v": "d", "x": "x", "X": "X", "o": "o", "O": "o", "b": "b"}[verb]
    digits = format(abs(value), base)
    if spec.prec >= 0:
        digits = "" if spec.prec == 0 and value == 0 else digits.rjust(spec.prec, "0")
    prefix = ""
    if "#" in flags or verb == "O":
        prefix = {"x": "0x", "X": "0X", "o": "0", "O": "0o", "b": "0b"}.get(verb, "")
        if verb == "o" and digits.startswith("0"):
            prefix = ""
    sign = "-" if value < 0 else "+" if "+" in flags else " " if " " in flags else ""
    return spec.pad(sign + prefix + digits, numeric=True, zeros=spec.prec < 0)


def _string(text: str, spec: _Spec) -> str:
    verb = spec.verb
    if verb in "sv":
        return spec.pad(text[:spec.prec] if spec.prec >= 0 else text)
    if verb == "q":
        text = text[:spec.prec] if spec.prec >= 0 else text
        if "#" in spec.flags and "`" not in text and all(c == "\t" or c.isprintable() for c in text):
            return spec.pad(f"`{text}`")
        return spec.pad(quote(text, "+" in spec.flags))
    data = utf8(text)
    if spec.prec >= 0:
        data = data[:spec.prec]
    hexed = data.hex() if verb == "x" else data.hex().upper()
    if " " in spec.flags:
        pre = ("0x" if verb == "x" else "0X") if "#" in spec.flags else ""
        hexed = " ".join(pre + hexed[i:i + 2] for i in range(0, len(hexed), 2))
    elif "#" in spec.flags and hexed:
        hexed = ("0x" if verb == "x" else "0X") + hexed
    return spec.pad(hexed)


def _float(value: float, spec: _Spec) -> str:
    verb = spec.verb
    if verb == "v":
        text = _float_v(value)
    elif verb in "fF":
        text = _pyformat(value, "f", 6 if spec.prec < 0 else spec.prec)
    elif verb in "eE":
        text = _pyformat(value, verb, 6 if spec.prec < 0 else spec.prec)
    else:
        text = _float_v(value) if spec.prec < 0 else _pyformat(value, verb.lower(), spec.prec)
        text = text.upper() if verb == "G" else text
    if value >= 0 and not text.startswith(("+", "N")):
        text = ("+" if "+" in spec.flags else " " if " " in spec.flags else "") + text
    return spec.pad(text, numeric=not math.isinf(value) and not math.isnan(value))


def format_value(value: object, spec: _Spec) -> str:
    verb = spec.verb
    if value is None:
        return spec.pad("<nil>") if verb == "v" else _bad(verb, value)
    if isinstance(value, bool):
        return spec.pad("true" if value else "false") if verb in "tv" else _bad(verb, value)
    if isinstance(value, int):
        if verb in "dvxXoObcqU":
            return _integer(value, spec)
        return _bad(verb, value)
    if isinstance(value, float):
        return _float(value, spec) if verb in "vfFeEgG" else _bad(verb, value)
    if isinstance(value, str):
        return _string(value, spec) if verb in "svqxX" else _bad(verb, value)
    if isinstance(value, GoMap):
        parts = [f"{format_value(k, spec)}:{format_value(v, spec)}" for k, v in value.sorted_items()]
        return "map[" + " ".join(parts) + "]"
    if isinstance(value, list):
        return "[" + " ".join(format_value(v, spec) for v in value) + "]"
    return _bad(verb, value)


def sprint(args: Sequence[object]) -> str:
    """fmt.Sprint: a space between two operands when neither is a string."""
    out: List[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg, _Spec("", 0, -1, "v")))
    return "".join(out)


def sprintln(args: Sequence[object]) -> str:
    return " ".join(format_value(a, _Spec("", 0, -1, "v")) for a in args) + "\n"


def _star(args: Sequence[object], index: int) -> Tuple[int, bool]:
    if index < len(args) and isinstance(args[index], int) and not isinstance(args[index], (bool, Uint8)):
        return int(args[index]), True        # type: ignore[call-overload]
    return 0, False


def sprintf(fmt: str, args: Sequence[object]) -> str:
    """fmt.Sprintf for the verbs above; a missing operand prints %!v(MISSING), extras %!(EXTRA ...)."""
    out: List[str] = []
    used, pos = 0, 0
    while True:
        found = fmt.find("%", pos)
        if found < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:found])
        match = _SPEC.match(fmt, found)
        assert match is not None
        flags, width_text, prec_text, verb = match.groups()
        pos = match.end()
        width = prec = -1
        if width_text == "*":
            width, ok = _star(args, used)
            used += 1
            if not ok:
                out.append("%!(BADWIDTH)")
            elif width < 0:
                flags, width = flags + "-", -width
        elif width_text:
            width = int(width_text)
        if prec_text == "*":
            prec, ok = _star(args, used)
            used += 1
            if not ok or prec < 0:
                out.append("%!(BADPREC)")
                prec = -1
        elif prec_text is not None:
            prec = int(prec_text or "0")
        if not verb:
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(format_value(args[used], _Spec(flags, max(width, 0), prec, verb)))
        used += 1
    if used < len(args):
        extra = ", ".join(f"{type_name(a)}={format_value(a, _Spec('', 0, -1, 'v'))}" if a is not None else "<nil>"
                          for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
