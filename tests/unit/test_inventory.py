"""inventory.py: what went into a binary, and how it was made (each toolchain's Recipe, as its
provenance records it)."""
from pyko.inventory import GoRecipe, Lockfile, Recipe, RustRecipe, Settings


def test_a_go_recipe_records_its_build_and_the_cache_only_when_one_was_read():
    settings = Settings({"GOFLAGS": "-mod=vendor"}, ())
    plain = GoRecipe("go", "go1.27.3", (Lockfile("go.sum", "ab" * 32),), flags=("-v",), ldflags=("-s", "-w"),
                     env=("TOKEN",), added=("-trimpath",), environment=settings)
    assert plain.details() == {"flags": ["-v"], "ldflags": ["-s", "-w"], "env": ["TOKEN"], "added": ["-trimpath"],
                               "environment": {"values": {"GOFLAGS": "-mod=vendor"}, "names": []}}
    cached = GoRecipe("go", "go1.27.3", build_cache={"uri": "reg.io/c:go-build-cache", "verified": True})
    assert cached.details()["buildCache"] == {"uri": "reg.io/c:go-build-cache", "verified": True}


def test_a_rust_recipe_names_its_builder_libc_and_standard_library():
    recipe = RustRecipe("rustc", "rustc 1.96.0", builder="cargo", libc="musl", standard_library="sysroot",
                        environment=Settings({}, ("CARGO_REGISTRY_TOKEN",)))
    details = recipe.details()
    assert (details["builder"], details["libc"], details["standardLibrary"]) == ("cargo", "musl", "sysroot")
    assert details["environment"] == {"values": {}, "names": ["CARGO_REGISTRY_TOKEN"]}   # a name, never its value


def test_a_prebuilt_binary_has_no_recipe_details():
    assert Recipe().details() == {} and Recipe().toolchain == ""
