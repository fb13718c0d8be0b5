"""The peers comparison's rounds and its report (``benchmarks/service.py --peers``).

Every system runs the same job on the same broker, one at a time, in ``rounds`` rounds that
each run every system once (the order rotates, so no system always follows the same one).
In a round a system is started on a fresh prefix, warmed up, measured and stopped:

  warm-up    - at least ``warmup`` commands (the JVM's JIT needs about 30,000), in growing
               bursts; a system too slow to answer them in ``warmup_seconds`` after its
               first answer stops there (the report says how many each one got);
  throughput - ``bursts`` bursts of ``burst`` commands published at once over the keys, each
               timed to its last answer (a slow system's bursts shrink to ~5 s of work);
               the best burst of all rounds counts;
  CPU        - user + system CPU of the system's own process during the bursts (/proc), per
               command; the broker's and the driver's beside it;
  latency    - ``paced`` commands sent one every ``1/pace`` s, each timed from its scheduled
               send; p50 and p99 over all rounds. Skipped, "saturated", for a system whose
               best burst in a round is below 1.25 x the pace: that close to its ceiling,
               its latency is its queue's, and below it the queue only grows;
  RSS        - the system's peak resident memory (VmHWM), the largest of the rounds.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks._report import peak_rss_mb, percentile, process_cpu_s, table
from benchmarks.peers.driver import FramedDriver
from benchmarks.peers.systems import PARTITIONS, Place, System
from clubhouse.agents.messages import agents_catalog
from clubhouse.messaging.serde import MessageSerde


@dataclass(frozen=True, slots=True)
class Options:
    keys: int
    rounds: int
    warmup: int
    warmup_seconds: float
    burst: int
    bursts: int
    pace: float
    paced: int


@dataclass(frozen=True, slots=True)
class Before:
    """A system's figures in issue 25, measured before this comparison was written."""

    rate: float
    p50: float | None  # None: saturated
    p99: float | None
    cpu_us: float
    rss_mb: float


BEFORE = {
    "streams100": Before(83_082, 58.7, 113, 10.3, 308),
    "streams0": Before(9_056, 2.5, 27.6, 19.4, 311),
    "eos": Before(9_471, 8.4, 35.5, 91, 206),
    "alo": Before(8_118, 5.4, 13.4, 88, 206),
    "faststream": Before(149, None, None, 999, 107),
}
CLUBHOUSE = ("eos", "alo", "eos100")
# Paced at more than 1/SATURATED of its best burst rate, a system's latency is its queue's.
SATURATED = 1.25
PEERS = ("streams100", "streams0", "faststream")


@dataclass(slots=True)
class Figures:
    """One system's figures, over the rounds it completed."""

    rates: list[float] = field(default_factory=list)  # best burst of each round
    latencies_ms: list[float] = field(default_factory=list)
    saturated: bool = False
    cpu_s: dict[str, float] = field(default_factory=dict)  # during the bursts, by process
    commands: int = 0  # in the bursts
    rss_mb: float = 0.0
    warmed: list[int] = field(default_factory=list)
    burst: int = 0

    @property
    def rate(self) -> float:
        return max(self.rates, default=float("nan"))

    def cpu_us(self, who: str = "system") -> float:
        return self.cpu_s.get(who, float("nan")) / max(self.commands, 1) * 1e6


def run_peers(place: Place, systems: Sequence[System], opts: Options) -> dict[str, Figures]:
    """Every system once per round; figures by system name."""
    keys = [f"bench-agent-{i}" for i in range(opts.keys)]
    figures = {s.name: Figures() for s in systems}
    for r in range(opts.rounds):
        shift = r % len(systems)
        for system in [*systems[shift:], *systems[:shift]]:
            prefix = f"peers-{system.name}-r{r}"
            try:
                measure_round(place, system, prefix, keys, opts=opts, into=figures[system.name])
            except Exception as exc:  # one failed round loses its figures, not the run
                print(f"round {r + 1}: {system.label} failed: {exc!r} "
                      f"(log: {place.directory / prefix}.log)", file=sys.stderr)  # fmt: skip
                continue
            f = figures[system.name]
            print(f"round {r + 1}/{opts.rounds}: {system.label}: {f.rates[-1]:,.0f} cmd/s",
                  file=sys.stderr)  # fmt: skip
    return figures


def measure_round(
    place: Place, system: System, prefix: str, keys: Sequence[str], *, opts: Options,
    into: Figures,
) -> None:  # fmt: skip
    procs = system.start(prefix, keys)
    driver: FramedDriver | None = None
    try:
        with place.registry() as registry:
            serde = MessageSerde(registry, agents_catalog(), prefix)
            serde.prepare()
            driver = FramedDriver(place.settings, serde, prefix, keys)
            warmed, rate = warm_up(driver, opts)
            into.warmed.append(warmed)
            burst = min(opts.burst, max(500, int(rate * 5)))
            into.burst = max(into.burst, burst)
            pids = {"system": [p.pid for p in procs], "broker": [place.broker_pid],
                    "driver": [os.getpid()]}  # fmt: skip
            best = 0.0
            for _ in range(opts.bursts):
                commands = driver.encode(burst)
                before = cpu(pids)
                took = driver.burst(commands)
                for who, seconds in cpu(pids).items():
                    into.cpu_s[who] = into.cpu_s.get(who, 0.0) + seconds - before[who]
                into.commands += burst
                best = max(best, burst / took)
            into.rates.append(best)
            if best < SATURATED * opts.pace:
                into.saturated = True
            else:
                into.latencies_ms += driver.paced(driver.encode(opts.paced), opts.pace)
            into.rss_mb = max(into.rss_mb, sum(peak_rss_mb(p.pid) for p in procs))
    finally:
        if driver is not None:
            driver.close()
        for proc in procs:
            proc.stop(grace=30)


def warm_up(driver: FramedDriver, opts: Options) -> tuple[int, float]:
    """Commands sent to warm the system up, and the best rate a warm-up burst reached.

    The first burst is small: it also waits out the group join. Each later one is about a
    second of work at the rate the one before reached.
    """
    sent, chunk, best = 0, 200, 0.0
    deadline = float("inf")
    while sent < opts.warmup and time.monotonic() < deadline:
        n = min(chunk, opts.warmup - sent)
        rate = n / driver.burst(driver.encode(n))
        if sent == 0:
            deadline = time.monotonic() + opts.warmup_seconds
        else:
            best = max(best, rate)
        sent += n
        chunk = int(min(5000, max(200, rate)))
    return sent, best


def cpu(pids: dict[str, list[int]]) -> dict[str, float]:
    return {who: sum(process_cpu_s(p) for p in group) for who, group in pids.items()}


# -- the report --------------------------------------------------------------------------------


def peers_report(
    systems: Sequence[System], figures: dict[str, Figures], skipped: Sequence[str], *,
    opts: Options, broker: str,
) -> str:  # fmt: skip
    done = [s for s in systems if figures[s.name].rates]
    lines = [
        "Peers: the same job on one broker, measured by one driver",
        "job: a Confluent-framed Avro ProcessMessageCommand updates its key's state and is "
        "answered on the same key by a framed MessageProcessedResponse (and an "
        "AgentThinkingEvent)",
        f"machine: {os.cpu_count()} cores, shared by the broker ({broker}), the registry, the "
        "system and the driver; one system runs at a time",
        f"{opts.keys} keys, {PARTITIONS} partitions, one driver, {opts.rounds} alternating "
        f"rounds; warm-up >= {opts.warmup:,} commands per system and round (at most "
        f"{opts.warmup_seconds:g} s after the first answer)",
        f"throughput: best of {opts.bursts} bursts x {opts.rounds} rounds, up to "
        f"{opts.burst:,} commands each; latency: {opts.paced:,} commands paced at "
        f"{opts.pace:g}/s per round, from their scheduled send; CPU: the system's own "
        "process during the bursts; RSS: its peak (VmHWM)",
        "before: the figures of issue 25, measured earlier on the same job and set-up",
        "",
    ]
    rows = []
    for s in done:
        f, b = figures[s.name], BEFORE.get(s.name)
        rows.append([
            s.label, f"{f.rate:,.0f}", "-" if b is None else f"{b.rate:,.0f}",
            latency(f), "-" if b is None else before_latency(b),
            us(f.cpu_us()), "-" if b is None else us(b.cpu_us),
            f"{f.rss_mb:.0f}", "-" if b is None else f"{b.rss_mb:.0f}",
        ])  # fmt: skip
    lines.append(table(
        ["system", "cmd/s", "before", f"p50 / p99 ms at {opts.pace:g}/s", "before",
         "CPU µs/cmd, burst", "before", "RSS MB", "before"], rows))  # fmt: skip
    lines += [*skipped]
    lines += ["", ratios(figures)]
    lines += [
        "",
        "Per round (best burst, cmd/s), burst size, warm-up commands per round:",
        table(["system", *(f"round {i + 1}" for i in range(opts.rounds)), "burst", "warm-up"],
              [[s.label, *(f"{r:,.0f}" for r in figures[s.name].rates),
                *(["-"] * (opts.rounds - len(figures[s.name].rates))),
                f"{figures[s.name].burst:,}", ", ".join(f"{w:,}" for w in figures[s.name].warmed)]
               for s in done]),
        "",
        "CPU µs per command during the bursts, by process:",
        table(["system", "system", "broker", "driver"],
              [[s.label, us(figures[s.name].cpu_us()), us(figures[s.name].cpu_us("broker")),
                us(figures[s.name].cpu_us("driver"))] for s in done]),
    ]  # fmt: skip
    return "\n".join(lines)


def ratios(figures: dict[str, Figures]) -> str:
    """Clubhouse / each peer: throughput, and CPU per command (below 1: Clubhouse uses less)."""
    ours = [n for n in CLUBHOUSE if figures.get(n) and figures[n].rates]
    peers = [n for n in PEERS if figures.get(n) and figures[n].rates]
    if not ours or not peers:
        return "Ratios: not enough systems measured."
    names = {"eos": "Clubhouse exactly-once", "alo": "Clubhouse at-least-once",
             "eos100": "Clubhouse exactly-once, commit 100 ms",
             "streams100": "Kafka Streams, commit 100 ms", "streams0": "Kafka Streams, every poll",
             "faststream": "FastStream"}  # fmt: skip
    rows = [
        [names[o], *(f"{figures[o].rate / figures[p].rate:.2f}x / "
                     f"{figures[o].cpu_us() / figures[p].cpu_us():.2f}x" for p in peers)]
        for o in ours
    ]  # fmt: skip
    return "\n".join([
        "Ratios Clubhouse / peer: throughput / CPU per command",
        table(["Clubhouse", *(f"/ {names[p]}" for p in peers)], rows),
    ])  # fmt: skip


def latency(f: Figures) -> str:
    if f.saturated or not f.latencies_ms:
        return "saturated"
    ordered = sorted(f.latencies_ms)
    return f"{percentile(ordered, 50):.1f} / {percentile(ordered, 99):.1f}"


def before_latency(b: Before) -> str:
    return "saturated" if b.p50 is None else f"{b.p50:g} / {b.p99:g}"


def us(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"
