"""What arguments name (directories, import paths, ko://), and config names that match nothing."""
import os

import pytest

from pyko.errors import UsageError
from pyko.plan.arguments import directory_for, entries, unmatched
from pyko.plan.config import BuildConfig, Config


@pytest.fixture
def module(tmp_path, monkeypatch):
    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.21\n")
    for sub in ("cmd/server", "cmd/Tool"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "main.go").write_text("package main\n\nfunc main() {}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_directories_import_paths_and_ko_references_name_the_same_package(module):
    environ = dict(os.environ)
    server = str(module / "cmd" / "server")
    assert directory_for("./cmd/server", environ) == "./cmd/server"
    assert os.path.realpath(directory_for("example.com/shop/cmd/server", environ)) == os.path.realpath(server)
    assert os.path.realpath(directory_for("ko://example.com/shop/cmd/server", environ)) == os.path.realpath(server)
    assert directory_for("pyko://./cmd/server", environ) == "./cmd/server"
    # the same package named three ways builds once
    found = entries(("./cmd/server", "example.com/shop/cmd/server", "ko://example.com/shop/cmd/server"),
                    Config(root=str(module)), environ)
    assert len(found) == 1


@pytest.mark.parametrize("argument, message", [
    ("./nothing", "path ./nothing does not exist"),
    ("example.com/shop/cmd/nothing", "does not exist, and `go list` finds no main package"),
    ("ko://", "does not exist"),
    ("go.mod", "is not a directory"),
])
def test_an_argument_that_names_nothing_is_one_usage_error(module, argument, message):
    with pytest.raises(UsageError, match=message):
        directory_for(argument, dict(os.environ))


def test_keys_and_entries_that_match_nothing_are_reported(module):
    config = Config(root=str(module), builds=(BuildConfig(id="srv", main="cmd/server"),
                                              BuildConfig(id="gone", main="cmd/gone")),
                    base_image_overrides={"srv": "a", "example.com/shop/cmd/server": "b",
                                          "example.com/shop/cmd/tool": "c",   # matched as ko does: any case
                                          "cmd/Tool": "d", "example.com/shop/cmd/typo": "e", "nothing": "f"})
    warnings = unmatched(config, dict(os.environ))
    assert len(warnings) == 3, warnings
    assert "builds entry id 'gone'" in warnings[0]
    assert "'example.com/shop/cmd/typo'" in warnings[1] and "'nothing'" in warnings[2]


def test_an_entry_whose_main_holds_no_go_package_is_reported(module):
    (module / "docs").mkdir()
    (module / "docs" / "README.md").write_text("no code here")
    (module / "cmd" / "server" / "x_test.go").write_text("package main\n")
    config = Config(root=str(module), builds=(BuildConfig(id="docs", main="docs"),
                                              BuildConfig(id="srv", main="cmd/server")))
    warnings = unmatched(config, dict(os.environ))
    assert len(warnings) == 1 and "builds entry id 'docs'" in warnings[0] and "holds no Go package" in warnings[0]


def test_what_looks_like_a_ko_users_argument(module):
    from pyko.plan.arguments import names_like_ko
    assert names_like_ko("ko://example.com/shop/cmd/server") and names_like_ko("example.com/shop/cmd/server")
    assert not names_like_ko("./cmd/server") and not names_like_ko("cmd/server") and not names_like_ko("pyko://x")
