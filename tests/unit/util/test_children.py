"""util/children.py: children run captured and tracked; stop_all ends them and refuses new ones."""
import subprocess
import sys
import threading
import time

import pytest

from pyko.util import children


@pytest.fixture(autouse=True)
def fresh_state():
    yield
    children._stopping.clear()


def test_run_captures_and_checks():
    done = children.run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"], text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")
    with pytest.raises(subprocess.CalledProcessError):
        children.run([sys.executable, "-c", "raise SystemExit(3)"], check=True)


def test_first_error_line():
    assert children.first_error_line("\n  \n  go: no module\nmore\n", "failed") == "go: no module"
    assert children.first_error_line("", "failed") == "failed"


def test_stop_all_ends_a_running_child_and_refuses_new_ones():
    result = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.setdefault(
        "proc", children.run([sys.executable, "-c", "import time; time.sleep(60)"])))
    worker.start()
    while not children._running and time.monotonic() - started < 10:
        time.sleep(0.01)
    children.stop_all(grace=5)
    worker.join(10)
    assert not worker.is_alive() and result["proc"].returncode != 0
    with pytest.raises(children.Stopped):
        children.run([sys.executable, "-c", "pass"])
