"""A backtest's result as one JSON-ready document (``--json``), and as text for a terminal. The HTML page
(``workers.backtest.page``) is drawn from the same document, so the three never disagree."""

from __future__ import annotations

from typing import Any

from workers.backtest.labels import Counts, LabelSet, tally
from workers.backtest.summary import HOUR_MS, Summary, TopicTally, iso
from workers.backtest.window import Window

TOP_FEEDS = 10


def score(
    labels: LabelSet, summary: Summary, sides: dict[str, tuple[str, ...]], only: str | None = None
) -> dict[str, Any]:
    """Precision and recall of each side (candidate, running) on the labelled stories read, as `wirewatch
    evaluate` counts them (``workers.backtest.labels.tally``) for the topics of the label header that side has."""
    out: dict[str, Any] = {}
    for index, (side, names) in enumerate(sides.items()):
        scored = [t for t in labels.topics if t in names and (only is None or t == only)]
        counts: dict[str, Counts] = {t: Counts() for t in scored}
        errors = []
        for story_id, found in sorted(summary.labelled.items()):
            for topic, kind in tally(labels.labels[story_id], found[index], scored, counts):
                errors.append({"id": story_id, "topic": topic, "kind": kind})
        out[side] = {"topics": {t: c.to_dict() for t, c in sorted(counts.items())}, "errors": errors}
    out["stories"] = len(summary.labelled)
    out["missing"] = len(set(labels.labels) - set(summary.labelled))
    return out


def _hours(tally: TopicTally, span: range) -> list[list[Any]]:
    """Every hour of ``span`` (the same for every topic, so their charts line up), empty for a topic that never
    matched on either side."""
    if not tally.hourly and not tally.hourly_running:
        return []
    return [[iso(h * HOUR_MS), tally.hourly[h], tally.hourly_running[h]] for h in span]


def _topic(name: str, t: TopicTally, status: str, span: range) -> dict[str, Any]:
    return {
        "topic": name,
        "status": status,  # changed, unchanged, new (only in the candidate file), removed (only running)
        "matches": t.matches,
        "running_matches": t.running,
        "gained": t.gained,
        "lost": t.lost,
        "near_misses": t.near,
        "per_day": dict(sorted(t.per_day.items())),
        "per_feed": dict(t.per_feed.most_common()),
        "per_language": dict(t.per_language.most_common()),
        "hourly": _hours(t, span),  # [hour start, candidate matches, running matches]
        "gained_samples": [s.to_dict() for s in t.gained_samples],
        "lost_samples": [s.to_dict() for s in t.lost_samples],
        "near_miss_samples": [s.to_dict() for s in t.near_samples],
    }


def document(
    summary: Summary,
    *,
    stories_topic: str,
    window: Window,
    candidate_file: str,
    running_file: str,
    candidate: tuple[str, ...],
    running: tuple[str, ...],
    changed: frozenset[str],
    reported: tuple[str, ...],
    records: int,
    outside: int,
    seconds: float,
    workers: int,
    labels: dict[str, Any] | None = None,
) -> dict[str, Any]:
    topics = {}
    span = (
        range(0)
        if summary.first is None or summary.last is None
        else range(summary.first // HOUR_MS, summary.last // HOUR_MS + 1)
    )
    for name in reported:
        status = "new" if name not in running else "removed" if name not in candidate else "unchanged"
        if status == "unchanged" and name in changed:
            status = "changed"
        topics[name] = _topic(name, summary.topics.get(name) or TopicTally(), status, span)
    return {
        "stories_topic": stories_topic,
        "candidate_file": candidate_file,
        "running_file": running_file,
        "window": {
            "from": None if window.start is None else iso(window.start),
            "to": None if window.end is None else iso(window.end),
            "first_story": None if summary.first is None else iso(summary.first),
            "last_story": None if summary.last is None else iso(summary.last),
        },
        "records": records,
        "outside_window": outside,
        "stories": summary.stories,
        "bad_records": {
            "count": summary.bad,
            "reasons": dict(summary.bad_reasons.most_common()),
            "samples": [{"partition": p, "offset": o, "reason": r} for p, o, r in summary.bad_samples],
        },
        "seconds": round(seconds, 3),
        "workers": workers,
        "stories_per_s": round(summary.stories / seconds, 1) if seconds > 0 else None,
        "topics": topics,
        "labels": labels,
    }


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def _samples(title: str, samples: list[dict[str, Any]], count: int) -> list[str]:
    if not count:
        return []
    lines = [f"  {title} ({count}{', first ' + str(len(samples)) if len(samples) < count else ''}):"]
    for s in samples:
        why = f"  [{s['removed_by']}]" if s.get("removed_by") else ""
        lines.append(f"    {s['time']}  {s['id']}  [{s['language']}] {s['title'] or '(no title)'}{why}")
        lines.append(f"      hits: {', '.join(s['terms'])}  | {s['snippet']}")
    return lines


def text(doc: dict[str, Any]) -> str:
    """The document as a reader scans it in a terminal."""
    w = doc["window"]
    lines = [
        f"backtest of {doc['candidate_file']} against {doc['running_file']} on {doc['stories_topic']}",
        f"window {w['from'] or 'oldest'} .. {w['to'] or 'newest'}: {doc['stories']} stories"
        f" ({w['first_story'] or '-'} .. {w['last_story'] or '-'}), {doc['bad_records']['count']} bad records,"
        f" {doc['seconds']:.1f}s with {doc['workers']} worker(s)",
        "",
        f"{'topic':<24} {'status':<9} {'matches':>7} {'running':>7} {'gained':>7} {'lost':>6} {'near':>6}",
    ]
    for name, t in doc["topics"].items():
        lines.append(
            f"{name:<24} {t['status']:<9} {t['matches']:>7} {t['running_matches']:>7} {'+' + str(t['gained']):>7}"
            f" {'-' + str(t['lost']):>6} {t['near_misses']:>6}"
        )
    for name, t in doc["topics"].items():
        if not (t["matches"] or t["running_matches"] or t["near_misses"]):
            continue
        lines += ["", f"== {name}"]
        if t["per_day"]:
            lines.append("  per day: " + "  ".join(f"{d} {n}" for d, n in t["per_day"].items()))
        if t["per_language"]:
            lines.append("  per language: " + ", ".join(f"{k} {n}" for k, n in t["per_language"].items()))
        if t["per_feed"]:
            feeds = list(t["per_feed"].items())
            more = f" (+{len(feeds) - TOP_FEEDS} more)" if len(feeds) > TOP_FEEDS else ""
            lines.append("  per feed: " + ", ".join(f"{k} {n}" for k, n in feeds[:TOP_FEEDS]) + more)
        lines += _samples("gained", t["gained_samples"], t["gained"])
        lines += _samples("lost", t["lost_samples"], t["lost"])
        lines += _samples("near misses (a veto or none removed them)", t["near_miss_samples"], t["near_misses"])
    if doc["labels"] is not None:
        labels = doc["labels"]
        read, missing = labels["stories"], labels["missing"]
        lines += ["", f"labels: {read} labelled stories read, {missing} labelled ones not in the window"]
        lines.append(f"{'topic':<24} {'side':<10} precision  recall   tp  fp  fn")
        for side in ("candidate", "running"):
            for name, c in labels[side]["topics"].items():
                lines.append(
                    f"{name:<24} {side:<10} {_pct(c['precision'])}    {_pct(c['recall'])}"
                    f"  {c['tp']:3d} {c['fp']:3d} {c['fn']:3d}"
                )
    bad = doc["bad_records"]
    if bad["count"]:
        lines += ["", f"bad records: {bad['count']} (" + ", ".join(f"{k} {n}" for k, n in bad["reasons"].items()) + ")"]
        lines += [f"  partition {s['partition']} offset {s['offset']}: {s['reason']}" for s in bad["samples"]]
    return "\n".join(lines)
