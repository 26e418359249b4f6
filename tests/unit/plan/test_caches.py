"""--cache-from / --cache-to: references, flags over config, a default tag."""
import pytest

from pyko.errors import UsageError
from pyko.plan.caches import go_cache_settings


def test_flags_win_and_a_tag_is_added():
    settings = go_cache_settings("reg.io/team/cache", "", "other.io/x:main", "reg.io/team/cache:ci", trust="none")
    assert str(settings.cache_from) == "reg.io/team/cache:go-build-cache"
    assert str(settings.cache_to) == "reg.io/team/cache:ci"
    assert settings.registry_hosts == ("reg.io",)
    assert go_cache_settings("", "", "", "").cache_from is None


def test_a_digest_is_refused():
    with pytest.raises(UsageError, match="name a tag, not a digest"):
        go_cache_settings("reg.io/c@sha256:" + "0" * 64, "", "", "")


def test_reading_a_cache_needs_a_policy_or_the_explicit_opt_out():
    from pyko.supplychain.policy import BasePolicy

    with pytest.raises(UsageError, match="--cache-trust=none") as err:
        go_cache_settings("reg.io/team/cache", "", "", "")
    assert "--cache-key" in str(err.value) and "cachePolicy" in str(err.value)
    policy = BasePolicy(key="ci.pub")
    assert go_cache_settings("reg.io/team/cache", "", "", "", policy).policy == policy
    assert go_cache_settings("", "reg.io/team/cache", "", "").cache_to is not None   # saving needs none
    with pytest.raises(UsageError, match="choose one"):
        go_cache_settings("reg.io/team/cache", "", "", "", policy, "none")
