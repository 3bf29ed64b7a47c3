"""``--html OUT``: the backtest document as one self-contained page, for readers who would rather look than read.

Everything is inline (a ``<style>`` block, one SVG chart per topic drawn here), with no script, font, image or
link to fetch, so the file can be mailed, archived or opened offline. Every text from a story or a topics file is
escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

CHART_W, CHART_H, PAD = 720, 140, 28

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1d232a;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border-bottom:1px solid #e3e6ea;text-align:left}
td.n,th.n{text-align:right}.gain{color:#17692a}.loss{color:#a3201b}.muted{color:#667}
.sample{margin:.4em 0 .8em;padding-left:.8em;border-left:3px solid #ccd}.snip{color:#445}
svg{display:block;margin:.4em 0}.legend span{display:inline-block;width:1em;height:.7em;margin:0 .3em 0 1em}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def chart(hourly: list[list[Any]]) -> str:
    """Hourly matches as bars (candidate) with a line over them (running topics), in inline SVG."""
    if not hourly:
        return '<p class="muted">no matches in the window</p>'
    top = max(max(c, r) for _h, c, r in hourly) or 1
    step = (CHART_W - PAD) / len(hourly)
    base = CHART_H - 18

    def y(value: int) -> float:
        return base - (base - 6) * value / top

    bars = "".join(
        f'<rect x="{PAD + i * step:.1f}" y="{y(c):.1f}" width="{max(step - 1, 0.5):.1f}" height="{base - y(c):.1f}"'
        f' fill="#4a7fb5"><title>{_e(h)}: {c} (running {r})</title></rect>'
        for i, (h, c, r) in enumerate(hourly)
    )
    points = " ".join(f"{PAD + (i + 0.5) * step:.1f},{y(r):.1f}" for i, (_h, _c, r) in enumerate(hourly))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" role="img"'
        f' aria-label="matches per hour">'
        f'<line x1="{PAD}" y1="{base}" x2="{CHART_W}" y2="{base}" stroke="#99a"/>'
        f'<text x="0" y="12" font-size="11">{top}</text><text x="0" y="{base}" font-size="11">0</text>'
        f"{bars}"
        f'<polyline points="{points}" fill="none" stroke="#d9822b" stroke-width="1.5"/>'
        f'<text x="{PAD}" y="{CHART_H - 3}" font-size="11">{_e(hourly[0][0])}</text>'
        f'<text x="{CHART_W}" y="{CHART_H - 3}" font-size="11" text-anchor="end">{_e(hourly[-1][0])}</text>'
        "</svg>"
        '<div class="legend muted"><span style="background:#4a7fb5"></span>candidate per hour'
        '<span style="background:#d9822b"></span>running per hour</div>'
    )


def _counts(title: str, counts: dict[str, int], limit: int = 15) -> str:
    if not counts:
        return ""
    rows = "".join(f'<tr><td>{_e(k)}</td><td class="n">{n}</td></tr>' for k, n in list(counts.items())[:limit])
    more = f'<tr><td class="muted">{len(counts) - limit} more</td><td></td></tr>' if len(counts) > limit else ""
    return f'<table><tr><th>{_e(title)}</th><th class="n">matches</th></tr>{rows}{more}</table>'


def _samples(title: str, css: str, samples: list[dict[str, Any]], count: int) -> str:
    if not count:
        return ""
    items = "".join(
        f'<div class="sample"><b>{_e(s["title"] or "(no title)")}</b> <span class="muted">{_e(s["time"])}'
        f" · {_e(s['feed'])} · {_e(s['language'])} · {_e(s['id'])}</span><br>"
        f'<span class="snip">{_e(s["snippet"])}</span><br>hits: {_e(", ".join(s["terms"]))}'
        + (f" · removed by {_e(s['removed_by'])}" if s.get("removed_by") else "")
        + "</div>"
        for s in samples
    )
    shown = f", first {len(samples)}" if len(samples) < count else ""
    return f'<h3 class="{css}">{_e(title)} ({count}{shown})</h3>{items}'


def _labels(labels: dict[str, Any] | None) -> str:
    if labels is None:
        return ""
    rows = ""
    for side in ("candidate", "running"):
        for name, c in labels[side]["topics"].items():
            p = "-" if c["precision"] is None else f"{c['precision'] * 100:.1f}%"
            r = "-" if c["recall"] is None else f"{c['recall'] * 100:.1f}%"
            rows += (
                f'<tr><td>{_e(name)}</td><td>{side}</td><td class="n">{p}</td><td class="n">{r}</td>'
                f'<td class="n">{c["tp"]}</td><td class="n">{c["fp"]}</td><td class="n">{c["fn"]}</td></tr>'
            )
    return (
        f"<h2>Labels</h2><p>{labels['stories']} labelled stories read, {labels['missing']} not in the window.</p>"
        '<table><tr><th>topic</th><th>side</th><th class="n">precision</th><th class="n">recall</th>'
        f'<th class="n">tp</th><th class="n">fp</th><th class="n">fn</th></tr>{rows}</table>'
    )


def render(doc: dict[str, Any]) -> str:
    w = doc["window"]
    summary_rows = "".join(
        f'<tr><td><a href="#t-{_e(name)}">{_e(name)}</a></td><td>{_e(t["status"])}</td>'
        f'<td class="n">{t["matches"]}</td><td class="n">{t["running_matches"]}</td>'
        f'<td class="n gain">+{t["gained"]}</td><td class="n loss">-{t["lost"]}</td>'
        f'<td class="n">{t["near_misses"]}</td></tr>'
        for name, t in doc["topics"].items()
    )
    sections = "".join(
        f'<h2 id="t-{_e(name)}">{_e(name)} <span class="muted">({_e(t["status"])})</span></h2>'
        f"{chart(t['hourly'])}"
        f"{_counts('day (UTC)', t['per_day'])}{_counts('language', t['per_language'])}{_counts('feed', t['per_feed'])}"
        f"{_samples('Gained', 'gain', t['gained_samples'], t['gained'])}"
        f"{_samples('Lost', 'loss', t['lost_samples'], t['lost'])}"
        f"{_samples('Near misses (a veto or none removed them)', '', t['near_miss_samples'], t['near_misses'])}"
        for name, t in doc["topics"].items()
    )
    bad = doc["bad_records"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>wirewatch backtest: {_e(doc['candidate_file'])}</title><style>{STYLE}</style></head><body>"
        f"<h1>Backtest of {_e(doc['candidate_file'])}</h1>"
        f"<p>Against the running topics <code>{_e(doc['running_file'])}</code>, on <code>{_e(doc['stories_topic'])}"
        f"</code>: {doc['stories']} stories from {_e(w['first_story'] or '-')} to {_e(w['last_story'] or '-')}"
        f" (window {_e(w['from'] or 'oldest')} to {_e(w['to'] or 'newest')}), {bad['count']} bad records,"
        f" {doc['seconds']:.1f} s with {doc['workers']} worker(s).</p>"
        '<table><tr><th>topic</th><th>status</th><th class="n">matches</th><th class="n">running</th>'
        f'<th class="n">gained</th><th class="n">lost</th><th class="n">near misses</th></tr>{summary_rows}</table>'
        f"{_labels(doc['labels'])}{sections}</body></html>\n"
    )
