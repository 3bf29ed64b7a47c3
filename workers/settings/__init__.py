"""Settings: config/ validated at start-up into pydantic models, and the environment, read in ``env`` alone.

``config`` (feeds, subscribers, settings and their combinations), ``yamlfile`` (one YAML file into a model,
with the file and key in every error), ``env`` (server addresses, secrets, ``WIREWATCH_*`` overrides). The
topics file is validated here by name only; the filter compiles it (``workers.filter.topics``).
"""
