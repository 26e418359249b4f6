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
