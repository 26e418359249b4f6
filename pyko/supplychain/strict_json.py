"""JSON that decides a verification (simple-signing payloads, in-toto statements), read one way only.

Go's encoding/json, which cosign uses, matches an object's keys to a struct's fields without
regard to case, and the last of several matching keys wins; Python's json keeps each spelling
as its own key. A payload holding both `critical` and `CRITICAL` would then mean one thing to
cosign and another to pyko. So an object with two keys that are equal when case-folded is
refused outright (at any depth): neither reading is chosen.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from ..errors import MalformedInput, clean_text


class _CaseTwins(ValueError):
    pass


def _no_case_twins(pairs: List[Tuple[str, object]]) -> Dict[str, object]:
    seen: Dict[str, str] = {}
    for key, _ in pairs:
        folded = key.casefold()
        if folded in seen:
            raise _CaseTwins(f"{seen[folded]!r} and {key!r}")
        seen[folded] = key
    return dict(pairs)


def loads(data: bytes, where: str) -> Any:   # any JSON value: its shape is for the caller to check
    """The JSON document in `data`; MalformedInput if it is not JSON or has keys that are case twins."""
    try:
        return json.loads(data, object_pairs_hook=_no_case_twins)
    except _CaseTwins as twins:
        raise MalformedInput(f"{where}: the JSON has keys that differ only in case ({clean_text(twins, 120)}), "
                             "which cosign would read as one: refused") from None
    except (ValueError, RecursionError):
        raise MalformedInput(f"{where} is not JSON") from None
