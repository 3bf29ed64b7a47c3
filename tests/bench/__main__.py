"""Run every benchmark module (or those named on the command line): python -m tests.bench [name ...]."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(
        m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    wanted = argv or names
    for name in wanted:
        if name not in names:
            print(f"unknown benchmark {name!r}; have: {', '.join(names)}", file=sys.stderr)
            return 2
        importlib.import_module(f"tests.bench.bench_{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
