"""What the tests' Kafka clients and daemons share: their session timeout."""

from __future__ import annotations

# Tansu answers a group join after about half the session timeout, and a killed or closed member (the
# daemons' leave_group_on_close is false on Tansu) gives its partitions up only after all of it, so this is
# most of the wait of every test that starts a consumer. 3 s (heartbeat 750 ms) is what the group tests
# (test_group_membership, test_group_stall, test_reset_group) have always run at, also on a loaded machine.
TEST_SESSION_MS = 3000
