"""The shared core: the records that travel between the stages and the names they travel under.

``stories`` (the story record, its id and content fingerprints), ``events`` (the match event), ``deadletter``
(the dead-letter envelope), ``signing`` (Standard Webhooks signatures), ``names`` (every Kafka topic, consumer
group and Redis key), ``errors`` (the error hierarchy). Pure: no I/O, no clients, no configuration.
"""
