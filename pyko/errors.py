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


class SigningError(PykoError):
    """A signature could not be made (Fulcio, Rekor, the OIDC token): the message says what was
    written unsigned, if anything."""


class VerificationError(PykoError):
    """A signature or attestation did not verify; the message gives every reason."""


class MalformedInput(PykoError):
    """Data from outside (a registry, a layout, a file) that is not what it must be.

    Raised before the data is used for anything: it never becomes a path, a
    URL or a size. The message says where the data came from.
    """


class RegistryError(PykoError):
    """A registry refused or failed a request; the message says what to do.

    Classified by what the registry said, never by the message's text: `status` is the
    HTTP status (0 when no answer came) and `code` the first OCI error code of the answer's
    body (MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN, DENIED, UNAUTHORIZED, ...; "" when
    it had none). `registry_error()` picks the subclass that callers catch.
    """

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.status, self.code = status, code


class NotFound(RegistryError):
    """404, or a body saying the repository, manifest or blob is unknown."""


class Unauthorized(RegistryError):
    """401: no credentials, or the wrong ones."""


class Denied(RegistryError):
    """403 or DENIED: the credentials lack the permission the request needs."""


#: OCI distribution error codes, and the kind of refusal each one is.
_KINDS = {"NAME_UNKNOWN": NotFound, "MANIFEST_UNKNOWN": NotFound, "BLOB_UNKNOWN": NotFound,
          "UNAUTHORIZED": Unauthorized, "DENIED": Denied}
_STATUSES = {404: NotFound, 401: Unauthorized, 403: Denied}


def registry_error(message: str, status: int, code: str = "") -> RegistryError:
    """The RegistryError a registry's answer (HTTP status, OCI error code) amounts to."""
    kind = _STATUSES.get(status) or _KINDS.get(code) or RegistryError
    return kind(message, status, code)


def clean_text(text: object, limit: int = 300) -> str:
    """Text from outside (a registry's message, a header) made safe to print on
    one line: control and format characters (escape sequences, newlines,
    bidi overrides) become '?', and it is cut at `limit` characters."""
    import unicodedata

    unsafe = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
    out = "".join("?" if unicodedata.category(c) in unsafe else c for c in str(text)[:limit + 1])
    return out if len(out) <= limit else out[:limit] + "…"
