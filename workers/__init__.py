"""wirewatch: feed pollers -> Kafka -> multilingual topic filter -> deduplicated, signed webhook alerts."""

__version__ = "0.1.0"
