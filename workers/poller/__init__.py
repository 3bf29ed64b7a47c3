"""The poller stage: feeds in, new stories out to Kafka.

Each feed is leased from the shared ``schedule`` when due, fetched politely by ``fetch`` (conditional GET,
caps, redirects), defused by ``xmlsafety``, parsed by ``parse`` (feedparser, ``htmltext``) into stories; the
stories not seen before are produced to the stories topic, then marked seen, and the feed's health
(``feed_health``) and next due time are recorded. ``worker.Poller`` is the loop.
"""
