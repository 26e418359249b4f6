"""Import paths from go.mod alone."""
from pyko.toolchains.go_modules import directory_of, import_path_of, module_of, module_path


def test_import_paths_come_from_the_nearest_go_mod(tmp_path):
    (tmp_path / "go.mod").write_text('// a comment: module not.this\nmodule "example.com/App" // trailing\n\ngo 1.22\n')
    (tmp_path / "cmd" / "server").mkdir(parents=True)
    assert module_path(str(tmp_path / "go.mod")) == "example.com/App"
    assert module_of(str(tmp_path / "cmd")) == ("example.com/App", str(tmp_path))
    assert import_path_of(str(tmp_path / "cmd" / "server")) == "example.com/App/cmd/server"
    assert import_path_of(str(tmp_path)) == "example.com/App"
    assert directory_of("example.com/App/cmd/server", "example.com/App", "/m") == "/m/cmd/server"
    assert directory_of("example.com/Apple", "example.com/App", "/m") == ""
    assert directory_of("example.com/App/../etc", "example.com/App", "/m") == ""


def test_no_module_gives_nothing(tmp_path):
    assert module_of(str(tmp_path)) is None or module_of(str(tmp_path))[1] != str(tmp_path)
    (tmp_path / "go.mod").write_text("go 1.22\n")
    assert module_of(str(tmp_path)) is None and import_path_of(str(tmp_path)) == ""
