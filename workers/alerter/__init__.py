"""The alerter stage: match events in, one signed webhook per subscriber and story out.

Each match is fingerprinted and claimed per subscriber in Redis (``dedup``, ``neardup``), so re-polls and
syndicated copies are dropped; the alert goes down its subscriber's lane (``delivery``): a signed POST
(``webhook``, through the ``ssrf`` guard), retries parked in ``retryqueue``, batches in ``digest``, failing
endpoints tracked in ``endpoints``, the hopeless dead-lettered. ``worker.Alerter`` is the loop.
"""
