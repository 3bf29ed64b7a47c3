"""Benchmarks: each module ``bench_<name>.py`` has ``main()`` printing one JSON line per figure:
{"bench": "<name>", "metric": "...", "value": 1.0, "unit": "..."}. `make bench` runs them all."""

from __future__ import annotations

import json
import sys


def emit(bench: str, metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": bench, "metric": metric, "value": round(float(value), 4), "unit": unit}), flush=True)
    sys.stdout.flush()
