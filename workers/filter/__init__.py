"""The filter stage: stories in, match events out to Kafka.

Each story's language is detected (``language``), its text normalised (``textnorm``), and the compiled topics
(``topics``, with country names from ``countries`` and term rules from ``terms``) matched in one pass by
``matcher``; a story that matches any topic becomes a match event. An unreadable story is dead-lettered.
``worker.FilterWorker`` is the loop.
"""
