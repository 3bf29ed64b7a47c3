"""Evaluation: how far analysts can trust the filter (precision, recall, language accuracy) on the shared
corpus, read in place. Used by ``wirewatch evaluate``, the tests and the benchmarks; no daemon imports it."""
