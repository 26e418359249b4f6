"""errors.py: exit codes by kind, and outside text made safe to print on one line."""
from pyko.errors import BuildError, ConfigError, PykoError, UsageError, clean_text


def test_exit_codes_follow_one_rule():
    assert UsageError("x").exit_code == ConfigError("x").exit_code == 2
    assert PykoError("x").exit_code == BuildError("x").exit_code == 1
    assert BuildError("failed", details="compiler output").details == "compiler output"


def test_control_and_bidi_characters_are_masked_and_long_text_cut():
    assert clean_text("a\x1b[31mred\nline\u202eevil") == "a?[31mred?line?evil"
    assert clean_text("é ü 日本") == "é ü 日本"
    assert clean_text("x" * 10, 4) == "xxxx…" and clean_text("x" * 4, 4) == "xxxx"
