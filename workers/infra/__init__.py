"""Infrastructure: one builder for each client and the daemon lifecycle every stage shares.

``kafka`` (producers, group consumers, readers, topic creation, offsets), ``redis`` (clients with timeouts),
``tls``, ``logs``, ``metrics`` (every Prometheus metric), ``health`` (/metrics, /healthz, /readyz),
``lifecycle`` (signals, the run loop, backoff). Knows no stage.
"""
