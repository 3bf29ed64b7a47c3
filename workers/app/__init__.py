"""The app: the ``wirewatch`` command (``cli``, ``commands``) and the composition root (``runtime``), which
builds each stage by its ``from_settings()`` and runs it until SIGTERM. The only package that imports stages."""
