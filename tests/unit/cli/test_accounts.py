"""cli/accounts.py: login takes the password one way only and never an empty one; logout says
whether anything was removed."""


def test_login_takes_exactly_one_password_source(run_pyko):
    code, _, err = run_pyko("login", "reg.example", "-u", "me")
    assert code == 2 and "exactly one of --password-stdin or -p/--password" in err
    code, _, err = run_pyko("login", "reg.example", "-u", "me", "-p", "")
    assert code == 2 and "the password is empty" in err


def test_logout_when_not_logged_in(run_pyko):
    code, _, err = run_pyko("logout", "reg.example")
    assert code == 0 and "Not logged in to reg.example" in err
