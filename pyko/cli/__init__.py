"""pyko's command line: parse flags, call the library, print references.

Results go to stdout (one reference per line, so `IMAGE=$(pyko build ...)`
works); logs and progress go to stderr. A PykoError becomes one line
`pyko: error: ...` and a non-zero exit; a traceback only with --verbose.

The group and main() live in app.py; the commands in one module per family,
each listing its click commands in COMMANDS (app.py registers them):
building.py (build), kubernetes.py (resolve, apply, create, delete), images.py
(base, index, rebase), accounts.py (login, logout), signing.py
(generate-key-pair, sign, verify, verify-attestation). The cli only reads
flags and prints; the work is pyko.commands', given a Plan (pyko.plan). Each
command imports what it needs only when it runs, so `pyko --help` and
`pyko --version` stay fast.
"""
from .app import cli, main

__all__ = ["cli", "main"]
