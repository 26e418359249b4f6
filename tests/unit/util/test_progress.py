import io
import subprocess
import sys

from pyko.util.progress import LineReporter, make_reporter


def test_pipes_get_plain_lines():
    stream = io.StringIO()
    reporter = make_reporter(stream=stream)
    assert isinstance(reporter, LineReporter)
    reporter.start("app linux/amd64")
    reporter.finish("app linux/amd64", 1.25)
    reporter.info("done")
    assert stream.getvalue().splitlines() == [
        "pyko: building app linux/amd64", "pyko: built app linux/amd64 in 1.2s", "pyko: done"]


def test_quiet_says_nothing():
    stream = io.StringIO()
    reporter = make_reporter(quiet=True, stream=stream)
    reporter.start("x")
    reporter.info("y")
    assert stream.getvalue() == ""


def test_rich_is_not_imported_off_a_terminal():
    code = ("import sys, io; from pyko.util.progress import make_reporter; "
            "make_reporter(stream=io.StringIO()).info('x'); print('rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
