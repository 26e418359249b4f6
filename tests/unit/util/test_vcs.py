"""What git says: credentials never leave in a published URL."""
import pytest

from pyko.util.vcs import without_credentials


@pytest.mark.parametrize("url, published", [
    ("https://user:token@github.com/o/r.git", "https://github.com/o/r.git"),
    ("https://x-access-token:ghs_abc@github.com:443/o/r", "https://github.com:443/o/r"),
    ("https://ghp_tokenonly@github.com/o/r.git?private=1#frag", "https://github.com/o/r.git"),
    ("ssh://git@[::1]:2222/o/r.git", "ssh://[::1]:2222/o/r.git"),
    ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    ("", ""),
])
def test_remote_urls_are_published_without_credentials(url, published):
    assert without_credentials(url) == published
