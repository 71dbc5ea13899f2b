"""`make bench`: measured figures for the quality bars of DESIGN.md section 6.

``python -m tests.bench.run`` builds the benchmark databases and calls every
``bench_*`` function of every ``tests/bench/bench_*.py`` module (see run.py).
The helpers below are shared by the benchmark modules.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    """The median of some timings."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.95 for p95): a value that was really measured."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])
