"""The cache directory's files: names, action records, intact outputs."""
import hashlib
import os

from pyko.toolchains.gocache.layout import (
    ENTRY,
    action_path,
    output_is_intact,
    output_path,
    read_action,
    write_atomically,
)


def test_records_and_outputs(tmp_path):
    root, body = str(tmp_path), b"bytes"
    output = hashlib.sha256(body).hexdigest()
    write_atomically(output_path(root, output), body)
    write_atomically(action_path(root, "a" * 64), f"{output} 5 123".encode())
    assert read_action(root, "a" * 64) == (output, 5, 123)
    assert output_is_intact(root, output, 5) and not output_is_intact(root, output, 6)
    assert read_action(root, "b" * 64) is None
    write_atomically(action_path(root, "c" * 64), b"../../etc/passwd 5 1")
    assert read_action(root, "c" * 64) is None
    assert not [n for n in os.listdir(os.path.join(root, "a")) if n.endswith(".tmp")]


def test_entry_names_are_hex_only():
    assert ENTRY.match("a/" + "0" * 64) and ENTRY.match("o/" + "f" * 64)
    for bad in ("a/" + "0" * 63, "o/../" + "0" * 61, "x/" + "0" * 64, "a/" + "0" * 64 + "/x", "a/" + "A" * 64):
        assert not ENTRY.match(bad)


def test_what_each_server_process_used_is_read_back_whole(tmp_path):
    """The used/<pid> log is written and read here alone: hits and puts of every process, together."""
    from pyko.toolchains.gocache.layout import record_use, use_log, used_actions

    with use_log(str(tmp_path)) as log:
        record_use(log, "hit", "a" * 64)
        record_use(log, "put", "b" * 64)
    (tmp_path / "used" / "99999").write_text(f"hit {'c' * 64}\n")   # another server process of the build
    assert used_actions(str(tmp_path)) == ({"a" * 64, "c" * 64}, {"b" * 64})
    assert used_actions(str(tmp_path / "nothing")) == (set(), set())
