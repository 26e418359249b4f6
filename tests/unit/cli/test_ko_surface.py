"""ko's other commands: version and completion work, run is refused with what to do instead."""


def test_version_and_completion_work_as_in_ko(run_pyko):
    from pyko import __version__

    code, out, _ = run_pyko("version")
    assert code == 0 and out.strip() == __version__
    code, out, _ = run_pyko("completion", "bash")
    assert code == 0 and "_PYKO_COMPLETE" in out and "complete " in out


def test_run_is_refused_with_the_two_steps_that_do_it(run_pyko):
    code, _, err = run_pyko("run", "ko://example.com/app", "--", "--port=8080")
    assert code == 2 and err.startswith("pyko: error: `run` is ko's") and "kubectl run" in err
