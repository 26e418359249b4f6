"""Progress on stderr: live (rich) on a terminal, plain lines in CI and pipes, or nothing.

Every layer that reports takes a Reporter; three implement it: RichReporter (a
terminal), LineReporter (CI logs, `2>file`) and SilentReporter (nobody watches).
rich is imported only when a terminal is there to draw on, so a CI run or a
`pyko --help` never pays for it. All methods are safe to call from worker threads.
"""
from __future__ import annotations

import sys
import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Dict, Mapping, Optional, Protocol, TextIO, Type

if TYPE_CHECKING:
    from rich.progress import TaskID  # rich is imported only when a live display is shown


class Reporter(Protocol):
    def info(self, message: str) -> None:
        """One line for the user (a result, a warning, a retry)."""

    def start(self, label: str) -> None:
        """A build task began."""

    def finish(self, label: str, seconds: float) -> None:
        """A build task ended after `seconds`."""

    def transfer(self, label: str, total: int) -> Optional["Transfer"]:
        """Byte progress of one big transfer, or None when nobody shows it."""

    def close(self) -> None:
        """Stop drawing (the live display); flush."""


class SilentReporter:
    """The reporter of work nobody watches: no lines, no progress."""

    def info(self, message: str) -> None:
        pass

    def start(self, label: str) -> None:
        pass

    def finish(self, label: str, seconds: float) -> None:
        pass

    def transfer(self, label: str, total: int) -> Optional["Transfer"]:
        return None

    def close(self) -> None:
        pass


class LineReporter:
    """One line per event: what CI logs and `2>file` want."""

    def __init__(self, stream: TextIO, quiet: bool = False):
        self.stream, self.quiet = stream, quiet
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        with self._lock:
            print(f"pyko: {text}", file=self.stream, flush=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            self._say(message)

    def start(self, label: str) -> None:
        if not self.quiet:
            self._say(f"building {label}")

    def finish(self, label: str, seconds: float) -> None:
        if not self.quiet:
            self._say(f"built {label} in {seconds:.1f}s")

    def transfer(self, label: str, total: int) -> "Transfer":
        """A big blob going over the network: one line when it starts, one when it ends."""
        if not self.quiet:
            self._say(f"{label} ({_mib(total)})")
        return Transfer(lambda n: None, lambda: None if self.quiet else self._say(f"{label}: done"))

    def close(self) -> None:
        pass


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


class Transfer:
    """Progress of one transfer: call it with each chunk's size, then done()."""

    def __init__(self, advance: Callable[[int], None], done: Callable[[], None]):
        self._advance, self._done = advance, done

    def __call__(self, n: int) -> None:
        self._advance(n)

    def done(self) -> None:
        self._done()


class RichReporter:
    """A spinner per running build, a tick when it is done; a byte bar per big blob."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description}"),
                                  BarColumn(bar_width=20), TaskProgressColumn(), TimeElapsedColumn(),
                                  console=Console(file=stream), transient=False)
        self._progress.start()
        self._tasks: Dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def info(self, message: str) -> None:
        self._progress.console.print(message, markup=False, highlight=False)

    def start(self, label: str) -> None:
        with self._lock:
            self._tasks[label] = self._progress.add_task(f"building {label}", total=1)

    def finish(self, label: str, seconds: float) -> None:
        with self._lock:
            task = self._tasks.get(label)
        if task is not None:
            self._progress.update(task, completed=1, description=f"built {label}")

    def transfer(self, label: str, total: int) -> Transfer:
        """A byte bar, as docker push shows, for one big blob."""
        task = self._progress.add_task(label, total=total)
        return Transfer(lambda n: self._progress.advance(task, n),
                        lambda: self._progress.update(task, completed=total))

    def close(self) -> None:
        self._progress.stop()


def make_reporter(quiet: bool = False, environ: Mapping[str, str] = MappingProxyType({}),
                  stream: Optional[TextIO] = None) -> Reporter:
    """A live display on a terminal; plain lines in CI (CI set), on a dumb terminal or in a pipe."""
    stream = stream or sys.stderr
    live = not quiet and stream.isatty() and not environ.get("CI") and environ.get("TERM") != "dumb"
    return RichReporter(stream) if live else LineReporter(stream, quiet)

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _silent: Type[Reporter] = SilentReporter
    _lines: Type[Reporter] = LineReporter
    _live: Type[Reporter] = RichReporter

