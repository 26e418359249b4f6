"""Errors meant for the user: the CLI prints their message as one line.

Anything else that escapes is a bug in pyko and is reported as such.
"""


class PykoError(Exception):
    """A failure the user can act on; `str(err)` says what and how to fix it."""

    exit_code = 1

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        #: Extra output shown before the one-line message (e.g. compiler output).
        self.details = details


class UsageError(PykoError):
    """Bad flags, config or paths."""

    exit_code = 2


class ConfigError(UsageError):
    """A config file that cannot be read or has bad values."""


class BuildError(PykoError):
    """A toolchain failed or produced something that cannot go in an image."""


class OutputError(PykoError):
    """The output (layout, tarball) cannot be written."""


class VerificationError(PykoError):
    """A signature or attestation did not verify; the message gives every reason."""


class MalformedInput(PykoError):
    """Data from outside (a registry, a layout, a file) that is not what it must be.

    Raised before the data is used for anything: it never becomes a path, a
    URL or a size. The message says where the data came from.
    """


class RegistryError(PykoError):
    """A registry refused or failed a request; the message says what to do."""

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.status, self.code = status, code


def clean_text(text: object, limit: int = 300) -> str:
    """Text from outside (a registry's message, a header) made safe to print on
    one line: control and format characters (escape sequences, newlines,
    bidi overrides) become '?', and it is cut at `limit` characters."""
    import unicodedata

    unsafe = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
    out = "".join("?" if unicodedata.category(c) in unsafe else c for c in str(text)[:limit + 1])
    return out if len(out) <= limit else out[:limit] + "…"
