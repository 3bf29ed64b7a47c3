"""Backtest: replay the stories Kafka retains through candidate topics and the running ones, and report the
difference before any alert goes out (`wirewatch backtest`).

In order: read a time window of the stories topic with a consumer that joins no group and produces nothing
(``reader``); match each story as the filter does, with both topic sets, on every core (``engine``); count per
topic matches per day, feed, language and hour, the stories gained and lost and the near misses a veto or none
removed, keeping only counters and bounded samples (``summary``); score both sides on labelled stories as
`wirewatch evaluate` does (``labels``); write the result as text, JSON (``report``) or one HTML page (``page``).
No daemon imports it: it is a tool, using the filter's pure matching and infra's Kafka reader.
"""
