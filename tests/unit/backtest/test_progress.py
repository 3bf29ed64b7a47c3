"""The progress line: records of the window's offsets, stories/s, ETA at the pace so far."""

from __future__ import annotations

import io

from workers.backtest.progress import Progress


def test_line_gives_rate_and_eta() -> None:
    p = Progress(io.StringIO(), total=1000)
    p.started = 100.0
    assert p.line(250, 200, now=110.0) == "backtest: 250/1,000 records (25%), 20 stories/s, ETA 30s"
    assert p.line(0, 0, now=100.5).endswith("ETA ?")
    # a broker that under-reports its end offsets: never more than 100%
    assert "1,200/1,200 records (100%)" in p.line(1200, 1000, now=110.0)


def test_long_eta_in_hours() -> None:
    p = Progress(io.StringIO(), total=3_700_000)
    p.started = 0.0
    assert p.line(1000, 1000, now=1.0).endswith("ETA 1:01:39")


def test_quiet_writes_nothing_and_done_sums_up() -> None:
    out = io.StringIO()
    Progress(out, enabled=False).done(10, 8)
    assert out.getvalue() == ""
    Progress(out).done(10, 8)
    assert "10 records read, 8 stories matched" in out.getvalue()
