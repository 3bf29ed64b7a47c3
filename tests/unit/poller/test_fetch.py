"""The fetcher against real local HTTP servers: every fault the poller must survive, one request each."""

from __future__ import annotations

import gzip
import http.client
import resource
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpcore
import pytest

from tests.support import rss, self_signed_cert
from workers.core.errors import FeedFetchError
from workers.devstack.feedserver import FeedServer, Route
from workers.poller.fetch import (
    FeedGoneError,
    FeedThrottledError,
    Fetched,
    feed_client,
    fetch,
    retry_after_seconds,
    wire_url,
)
from workers.poller.parse import parse
from workers.settings.config import Feed

pytestmark = pytest.mark.integration

Client = httpcore.ConnectionPool

UA = "wirewatch-test/1"
CAP = 200_000
ITEMS = [{"title": "Привет мир", "link": "http://127.0.0.1/s/1", "guid": "g1", "description": "Тело &amp; текст"}]


class _Streaming(BaseHTTPRequestHandler):
    """Bodies FeedServer cannot serve: a slow drip and an endless 1 GB-and-more body."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("content-type", "application/rss+xml")
        self.end_headers()
        try:
            if self.path == "/drip":
                for _ in range(100):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.2)  # each byte within the read timeout; the whole body never within the total
            else:
                chunk = b"x" * 65536
                for _ in range(16384):  # 1 GiB, sent without content-length
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, fmt: str, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def streaming() -> Iterator[str]:
    yield from _serve(_Streaming)


class _ForwardProxy(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: GET with an absolute URL, passed on with its headers; records what it saw."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802
        target = urlsplit(self.path)
        type(self).seen.append((self.path, self.headers.get("if-none-match")))
        conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=5)
        conn.request("GET", target.path, headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        upstream = conn.getresponse()
        body = upstream.read()
        self.send_response(upstream.status)
        for k, v in upstream.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        conn.close()

    def log_message(self, fmt: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    _ForwardProxy.seen = []
    yield from _serve(_ForwardProxy)


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[FeedServer, Path]]:
    """A feed server over TLS with a self-signed certificate; yields it and the certificate's path."""
    cert, key = self_signed_cert(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = FeedServer({"/s.xml": Route(rss(ITEMS))})
    server.start(tls=tls)
    yield server, cert
    server.stop()


@pytest.fixture
def client() -> Iterator[Client]:
    with feed_client(4) as c:
        yield c


def gzip_bomb(megabytes: int) -> bytes:
    """gzip of ``megabytes`` MB of spaces (about 1000:1), built in chunks so the test itself stays small."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * 1_000_000
    return b"".join([z.compress(b"<rss>"), *(z.compress(chunk) for _ in range(megabytes)), z.flush()])


def get(client: Client, url: str, validators: dict[str, str] | None = None, timeout: float = 1.0) -> Fetched:
    return fetch(client, "f", url, validators or {}, timeout=timeout, max_bytes=CAP, user_agent=UA)


def test_user_agent_validators_and_304(feed_server: FeedServer, client: Client) -> None:
    feed_server.routes["/a.xml"] = Route(rss(ITEMS), headers={"cache-control": "public, max-age=600"})
    first = get(client, feed_server.url("/a.xml"))
    assert first.status == 200 and first.max_age == 600 and first.validators["etag"]
    again = get(client, feed_server.url("/a.xml"), first.validators)
    assert again.status == 304 and again.body == b""
    sent = feed_server.requests[-1][1]
    assert sent["if-none-match"] == first.validators["etag"] and sent["user-agent"] == UA


@pytest.mark.parametrize(
    "status,error,attr",
    [(500, FeedFetchError, None), (410, FeedGoneError, None), (429, FeedThrottledError, 120.0)],
)
def test_status_codes(feed_server: FeedServer, client: Client, status: int, error: type, attr: float | None) -> None:
    feed_server.routes["/x.xml"] = Route(b"no", status=status, headers={"retry-after": "120"})
    with pytest.raises(error) as info:
        get(client, feed_server.url("/x.xml"))
    assert f"HTTP {status}" in info.value.reason
    if attr is not None:
        assert info.value.retry_after == attr


def test_retry_after_as_http_date() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_permanent_redirect_reports_the_new_url_temporary_does_not(feed_server: FeedServer, client: Client) -> None:
    feed_server.routes["/new.xml"] = Route(rss(ITEMS))
    feed_server.routes["/old.xml"] = Route(b"", status=301, headers={"location": "/new.xml"})
    feed_server.routes["/tmp.xml"] = Route(b"", status=302, headers={"location": "/new.xml"})
    feed_server.routes["/loop.xml"] = Route(b"", status=308, headers={"location": "/loop.xml"})
    moved = get(client, feed_server.url("/old.xml"))
    assert moved.status == 200 and moved.moved_to == feed_server.url("/new.xml")
    assert get(client, feed_server.url("/tmp.xml")).moved_to is None
    with pytest.raises(FeedFetchError, match="redirects"):
        get(client, feed_server.url("/loop.xml"))


def test_timeout_and_slow_drip(feed_server: FeedServer, streaming: str, client: Client) -> None:
    feed_server.routes["/hang.xml"] = Route(rss(ITEMS), delay=3)
    with pytest.raises(FeedFetchError, match="timed out"):
        get(client, feed_server.url("/hang.xml"))
    with pytest.raises(FeedFetchError, match="not complete"):
        get(client, streaming + "/drip")


def test_oversized_bodies_and_gzip_bomb_are_refused_in_bounded_memory(
    feed_server: FeedServer, streaming: str, client: Client
) -> None:
    feed_server.routes["/big.xml"] = Route(b"<rss>" + b"x" * (CAP + 10) + b"</rss>")
    with pytest.raises(FeedFetchError, match="exceeds"):
        get(client, feed_server.url("/big.xml"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FeedFetchError, match="exceeds"):
        get(client, streaming + "/endless", timeout=5)  # 1 GiB without content-length
    bomb = gzip_bomb(200)
    feed_server.routes["/bomb.xml"] = Route(bomb, headers={"content-encoding": "gzip"})
    with pytest.raises(FeedFetchError, match="exceeds"):
        get(client, feed_server.url("/bomb.xml"))
    feed_server.routes["/bomb-plain.xml"] = Route(bomb)  # a .gz served as plain bytes is sniffed and capped too
    with pytest.raises(FeedFetchError, match="exceeds"):
        get(client, feed_server.url("/bomb-plain.xml"))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"peak memory grew by {grown_mb:.0f} MB"


def test_gzip_body_is_decoded(feed_server: FeedServer, client: Client) -> None:
    feed_server.routes["/z.xml"] = Route(gzip.compress(rss(ITEMS)), headers={"content-encoding": "gzip"})
    assert get(client, feed_server.url("/z.xml")).body == rss(ITEMS)


def test_entity_expansion_bomb_is_not_expanded(feed_server: FeedServer, client: Client) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e0 "lol">{entities}'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&e9;&xxe;</title>'
        "<link>http://127.0.0.1/1</link><description>d</description></item></channel></rss>"
    )
    feed_server.routes["/lol.xml"] = Route(doc.encode())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stories = parse(Feed(name="f", url=feed_server.url("/lol.xml")), get(client, feed_server.url("/lol.xml")))
    assert len(stories) == 1 and len(stories[0].title) < 100 and "root:" not in stories[0].title
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 50


def test_wrong_declared_charset_still_yields_readable_text(feed_server: FeedServer, client: Client) -> None:
    body = rss(ITEMS).decode().replace('encoding="utf-8"', 'encoding="windows-1251"').encode("cp1251")
    feed_server.routes["/cp.xml"] = Route(body, content_type="application/rss+xml; charset=utf-8")  # the header lies
    stories = parse(Feed(name="f", url=feed_server.url("/cp.xml")), get(client, feed_server.url("/cp.xml")))
    assert stories[0].title == "Привет мир" and stories[0].text == "Тело & текст"


def test_wire_url_encodes_what_httpcore_cannot_send() -> None:
    assert wire_url("http://пример.рф/новости/лента.xml?q=да&x=1") == (
        "http://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%D0%BB%D0%B5%D0%BD%D1%82%D0%B0.xml"
        "?q=%D0%B4%D0%B0&x=1",
        None,
    )
    assert wire_url("HTTPS://Example.com:8443/a%20b/c d.xml#top") == ("https://example.com:8443/a%20b/c%20d.xml", None)
    url, auth = wire_url("https://reader:s%40cret@feeds.example.com/private.xml")
    assert url == "https://feeds.example.com/private.xml" and auth == b"Basic cmVhZGVyOnNAY3JldA=="  # reader:s@cret
    assert wire_url("http://[::1]:8080/f.xml")[0] == "http://[::1]:8080/f.xml"


def test_non_ascii_path_and_basic_auth_reach_the_server(feed_server: FeedServer, client: Client) -> None:
    feed_server.routes["/" + quote("новости.xml")] = Route(rss(ITEMS))
    port = urlsplit(feed_server.url("/")).port
    fetched = get(client, f"http://reader:pw@127.0.0.1:{port}/новости.xml")
    assert fetched.status == 200 and fetched.body == rss(ITEMS)
    path, headers = feed_server.requests[-1]
    assert path == "/" + quote("новости.xml") and headers["authorization"] == "Basic cmVhZGVyOnB3"


def test_redirect_to_a_raw_utf8_location(feed_server: FeedServer, client: Client) -> None:
    feed_server.routes["/" + quote("лента.xml")] = Route(rss(ITEMS))
    raw = "/лента.xml".encode().decode("latin-1")  # the bytes a server writes when it does not percent-encode
    feed_server.routes["/old.xml"] = Route(b"", status=301, headers={"location": raw})
    moved = get(client, feed_server.url("/old.xml"))
    assert moved.status == 200 and moved.moved_to == feed_server.url("/лента.xml")


def test_proxy_url_carries_the_fetch_and_the_validators(feed_server: FeedServer, proxy: str) -> None:
    feed_server.routes["/p.xml"] = Route(rss(ITEMS))
    with feed_client(2, proxy) as via_proxy:
        first = get(via_proxy, feed_server.url("/p.xml"))
        again = get(via_proxy, feed_server.url("/p.xml"), first.validators)
    assert first.status == 200 and again.status == 304
    assert _ForwardProxy.seen == [
        (feed_server.url("/p.xml"), None),
        (feed_server.url("/p.xml"), first.validators["etag"]),
    ], "both requests went through the proxy, the second conditional"


def test_tls_certificates_are_verified(https_server: tuple[FeedServer, Path], client: Client) -> None:
    server, _ = https_server
    with pytest.raises(FeedFetchError, match="CERTIFICATE_VERIFY_FAILED"):
        get(client, server.url("/s.xml"))
    assert not server.requests, "nothing was sent over an unverified connection"


def test_tls_trusts_ssl_cert_file_and_revalidates(
    https_server: tuple[FeedServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # how an operator adds a private CA, as with any OpenSSL client
    with feed_client(2) as trusting:
        first = get(trusting, server.url("/s.xml"))
        again = get(trusting, server.url("/s.xml"), first.validators)
    assert first.status == 200 and first.body == rss(ITEMS) and again.status == 304


def test_raw_deflate_and_zlib_deflate_bodies_are_decoded(feed_server: FeedServer, client: Client) -> None:
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)  # RFC 1951 without the zlib header, as some servers send it
    feed_server.routes["/raw.xml"] = Route(
        raw.compress(rss(ITEMS)) + raw.flush(), headers={"content-encoding": "deflate"}
    )
    feed_server.routes["/zlib.xml"] = Route(zlib.compress(rss(ITEMS)), headers={"content-encoding": "deflate"})
    assert get(client, feed_server.url("/raw.xml")).body == rss(ITEMS)
    assert get(client, feed_server.url("/zlib.xml")).body == rss(ITEMS)
    feed_server.routes["/junk.xml"] = Route(b"\x00\x01not deflate at all", headers={"content-encoding": "deflate"})
    with pytest.raises(FeedFetchError, match="corrupt deflate"):
        get(client, feed_server.url("/junk.xml"))


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw RFC 1951
        ("identity", gzip.compress),  # a .gz file served as plain bytes
    ],
    ids=["gzip", "zlib-deflate", "raw-deflate", "gzip-file"],
)
def test_a_truncated_compressed_body_is_a_feed_failure(
    feed_server: FeedServer, client: Client, encoding: str, compress: Any
) -> None:
    """A body cut in its compressed stream (a proxy dropping the tail, a full disk) used to decode silently to the
    part before the cut: the feed looked shorter, or parsed as garbage. It is a corrupt body, and the poll fails."""
    wire = compress(rss(ITEMS * 20))
    feed_server.routes["/cut.xml"] = Route(wire[: len(wire) * 2 // 3], headers={"content-encoding": encoding})
    with pytest.raises(FeedFetchError, match="truncated"):
        get(client, feed_server.url("/cut.xml"))


@pytest.mark.parametrize("status", [203, 226])
def test_200_like_statuses_are_read(feed_server: FeedServer, client: Client, status: int) -> None:
    feed_server.routes["/s.xml"] = Route(rss(ITEMS), status=status)
    fetched = get(client, feed_server.url("/s.xml"))
    assert fetched.status == 200 and fetched.body == rss(ITEMS)
