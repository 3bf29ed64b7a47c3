"""Fuzz: random URLs into canonicalisation (total: a string, deterministic, idempotent on what it returns) and
story ids; and into the wire form and the webhook URL check of the settings, which accept a URL in a form
httpcore can send or refuse it with a ValueError pydantic reports under the key (never another exception)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import urls as valid_urls

from tests.fuzz import examples
from workers.core.stories import story_id
from workers.core.urls import UrlError, canonical_url, mask_url, wire_url
from workers.settings.config import _check_webhook_url

parts = st.sampled_from(
    ["http://", "https://", "HTTP://", "file://", "//", "", "user:pw@", "[", "]", "[::1]", ":", ":80", ":80a"]
    + [":99999", "/", "?", "#", "&", "=", "%", "%zz", "%00", "@", "example.com", "ex\uff03ample.com", "d\u00e9sk"]
    + ["xn--", "\ud800", "\x00", " ", "\t", "..", "utm_source=1", "a=1&b=2", "\u202e", "${X}", "127.0.0.1"]
)
urls = st.one_of(
    st.text(max_size=60),
    st.lists(parts | st.text(max_size=5), max_size=10).map("".join),
    valid_urls(),
)


@examples(1500)
@given(urls)
def test_fuzz_canonical_url(url: str) -> None:
    once = canonical_url(url)
    assert isinstance(once, str) and once == canonical_url(url)
    assert story_id(url, url, url, url, url) and story_id(url, None, url, "t", None)
    assert isinstance(mask_url(url), str)
    assert canonical_url("HTTP://Example.com:80/a?utm_source=x#f") == "http://example.com/a"


@examples(1500)
@given(urls)
def test_fuzz_wire_url_and_webhook_check(url: str) -> None:
    try:
        wire, _auth = wire_url(url)
    except UrlError:
        pass
    else:
        assert wire.isascii() and " " not in wire.partition("://")[2]  # what httpcore can send
    try:
        checked = _check_webhook_url(url)
    except ValueError as exc:  # pydantic reports it under subscribers[i].url
        assert str(exc)
    else:
        assert checked.isascii() and checked.startswith(("http://", "https://"))
        assert _check_webhook_url(checked) == checked, "the checked form is accepted as it is"
    assert _check_webhook_url("http://127.0.0.1/d\u00e9sk") == "http://127.0.0.1/d%C3%A9sk"


# Found by test_fuzz_wire_url_and_webhook_check: a host with a space ("http:// /", "http://exa mple.com/x") was
# accepted as a webhook or feed URL at load time, and every delivery or fetch to it would have failed.
@pytest.mark.parametrize("url", ["A:// ", "http:// /", "http://exa mple.com/x", "http://a\x00b/"])
def test_a_host_with_a_space_or_a_control_character_cannot_be_sent(url: str) -> None:
    with pytest.raises(UrlError, match="holds characters no host name can"):
        wire_url(url)
    with pytest.raises(ValueError):
        _check_webhook_url(url)


# Found by test_fuzz_wire_url_and_webhook_check: "http:////0" has no host (its path is //0), and was checked into
# "http:////0", which is read back as another URL.
@pytest.mark.parametrize("url", ["http:////0", "http:///x", "https://"])
def test_a_url_without_host_cannot_be_sent(url: str) -> None:
    with pytest.raises(UrlError, match="no host"):
        wire_url(url)
