"""Run every benchmark module (or those named on the command line): python -m tests.bench [name ...]."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(
        m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; have: {', '.join(names)}", file=sys.stderr)
        return 2
    if len(wanted) == 1:
        importlib.import_module(f"tests.bench.bench_{wanted[0]}").main()
        return 0
    # one process per benchmark: peak RSS and warm caches must be each benchmark's own
    failed = [name for name in wanted if subprocess.run([sys.executable, "-m", "tests.bench", name]).returncode]
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
