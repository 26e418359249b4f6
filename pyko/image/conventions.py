"""Values every static image pyko makes shares, defined once."""

#: The nonroot user (and group) of distroless, Chainguard and pyko's own base.
NONROOT_ID = 65532
NONROOT = str(NONROOT_ID)

#: PATH when the base sets none (the Debian/distroless default).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
