"""Shared helpers for the benchmarks: best-of-N timing, a plain-text table, and a process's
CPU time and peak RSS from Linux's /proc."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from clubhouse.cli.tables import table_lines


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``run``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def best_rate(run: Callable[[], int], *, repeats: int = 3) -> float:
    """Operations per second of the fastest of ``repeats`` runs; ``run`` returns its op count."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        ops = run()
        elapsed = time.perf_counter() - start
        best = max(best, ops / elapsed)
    return best


def best_rates(runs: Sequence[Callable[[], int]], *, rounds: int = 5) -> list[float]:
    """Best ops/s of each run over ``rounds`` rounds that run them all, one after another.

    Interleaving keeps a slow spell of a shared machine from landing on one path only, so
    the ratios between paths stay meaningful even when absolute figures drift.
    """
    best = [0.0] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            best[i] = max(best[i], best_rate(run, repeats=1))
    return best


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) of already sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns, wide enough for their longest cell, the header underlined."""
    return "\n".join(table_lines([headers, *rows], rule=True))


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds that ``pid`` (all its threads) has used so far; Linux only."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The most resident memory ``pid`` has had (``VmHWM``), in MiB; NaN without /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB (KiB) to MiB
    return float("nan")
