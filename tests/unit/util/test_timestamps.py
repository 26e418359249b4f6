"""util/timestamps.py: SOURCE_DATE_EPOCH read from the mapping given, RFC 3339 in UTC."""
import pytest

from pyko.errors import UsageError
from pyko.util.timestamps import rfc3339, source_date_epoch


def test_unset_or_blank_is_zero_and_digits_are_seconds():
    assert source_date_epoch({}) == 0 and source_date_epoch({"SOURCE_DATE_EPOCH": "  "}) == 0
    assert source_date_epoch({"SOURCE_DATE_EPOCH": " 1700000000 "}) == 1700000000


@pytest.mark.parametrize("value", ["-1", "1.5", "yesterday", "1e9"])
def test_anything_else_is_refused_with_a_hint(value):
    with pytest.raises(UsageError, match="git log -1 --format=%ct"):
        source_date_epoch({"SOURCE_DATE_EPOCH": value})


def test_rfc3339():
    assert rfc3339(0) == "1970-01-01T00:00:00Z" and rfc3339(1700000000) == "2023-11-14T22:13:20Z"
