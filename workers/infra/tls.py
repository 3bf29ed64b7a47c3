"""TLS for every outgoing connection (feeds and webhooks): certificates and host names verified against
the system store (which honours SSL_CERT_FILE / SSL_CERT_DIR) plus certifi's bundle.

Each HTTP client gets one context, built here once: httpcore builds a fresh context for every new
connection when it is given none, and building one (loading the CA bundle) costs about 70 ms of CPU,
which a poller opening a connection per feed would pay on every poll.
"""

from __future__ import annotations

import ssl

import certifi


def client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()  # CERT_REQUIRED, check_hostname, TLS 1.2+
    ctx.load_verify_locations(certifi.where())
    return ctx
