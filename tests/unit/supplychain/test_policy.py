"""supplychain/policy.py: who a base must be signed by; every combination that cannot work refused."""
import pytest

from pyko.errors import UsageError
from pyko.supplychain.policy import PRESETS, BasePolicy, from_flags, policy_from

ISSUER = "https://token.actions.githubusercontent.com"


def _fail(key, problem):
    raise UsageError(f"{key}: {problem}")


def test_a_preset_fills_in_identity_and_issuer_and_a_table_may_override_them():
    chainguard = policy_from({"preset": "chainguard"}, _fail, lambda p: p)
    assert chainguard.identity_regexp == PRESETS["chainguard"]["certificateIdentityRegexp"]
    assert chainguard.issuer == ISSUER and chainguard.keyless
    mine = policy_from({"preset": "chainguard", "certificateOidcIssuer": "https://issuer.example"}, _fail, str)
    assert mine.issuer == "https://issuer.example"


def test_paths_are_made_relative_to_the_config():
    policy = policy_from({"key": "cosign.pub", "trustedRoot": "root.json"}, _fail, lambda p: "/cfg/" + p)
    assert (policy.key, policy.trusted_root, policy.keyless) == ("/cfg/cosign.pub", "/cfg/root.json", False)
    assert policy.describe() == "signed with /cfg/cosign.pub"


@pytest.mark.parametrize("table, says", [
    ({"key": "k.pub", "certificateIdentity": "me"}, "a key or a keyless identity, not both"),
    ({"certificateOidcIssuer": ISSUER}, "exactly one of certificateIdentity and"),
    ({"certificateIdentity": "a", "certificateIdentityRegexp": "b", "certificateOidcIssuer": ISSUER},
     "exactly one of certificateIdentity and"),
    ({"certificateIdentity": "a"}, "exactly one of certificateOidcIssuer and"),
    ({"certificateIdentityRegexp": "(", "certificateOidcIssuer": ISSUER}, "not a regular expression"),
    ({"preset": "acme"}, "unknown preset 'acme'"),
    ({"identity": "me"}, "unknown key 'identity'"),
])
def test_what_cannot_work_is_refused(table, says):
    with pytest.raises(UsageError, match=says):
        policy_from(table, _fail, str)


def test_flags_give_a_policy_only_when_they_name_one():
    assert from_flags({"key": "", "preset": ""}) is None
    assert from_flags({"trustedRoot": "root.json"}) is None  # a root alone says nothing about who signed
    policy = from_flags({"certificateIdentity": "me@example.com", "certificateOidcIssuer": ISSUER})
    assert policy == BasePolicy(identity="me@example.com", issuer=ISSUER)
    assert policy.describe() == f"signed by me@example.com via {ISSUER}"
