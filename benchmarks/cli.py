"""Command-line latency: ``send … --help`` and a warm ``send process-message`` round trip.

Run: ``.venv/bin/python benchmarks/cli.py [--runs 7]``

Every figure is the wall time of a fresh ``clubhouse`` process, as a shell user sees it.
Baselines measured in the same run, so the ratios survive a busy machine:
  python -c pass   - the interpreter alone;
  eager imports    - the modules ``send`` used to import before parsing its arguments
                     (pydantic contracts, the confluent registry client, the Kafka client).
The round trip runs against ``clubhouse dev`` started in a temporary directory (found by
the client through its dev.env), after one warm-up command.
Targets: ``send create-agent --help`` < 0.3 s; warm ``send process-message`` < 0.4 s
(issue 25; it was 0.8 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import table

BIN = Path(sys.executable).parent
CLUBHOUSE = [str(BIN / "clubhouse")] if (BIN / "clubhouse").exists() else [
    sys.executable, "-m", "clubhouse.cli.main"]  # fmt: skip
EAGER_IMPORTS = (
    "import clubhouse.contracts, clubhouse.client, clubhouse.services.schema_registry, "
    "clubhouse.services.kafka"
)


SEND_TARGET_S = 0.4  # a warm `send process-message` round trip, median wall seconds

CPU: dict[str, float] = {}  # command label -> CPU seconds (user + sys) of its last runs


def wall_times(command: list[str], runs: int, cwd: Path | None = None) -> list[float]:
    """Wall seconds of ``runs`` fresh processes of ``command``; each must exit 0.

    Their median CPU time goes into ``CPU``: on a shared machine wall time includes waiting
    for a core, and CPU time shows the work itself.
    """
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU[" ".join(command)] = statistics.median(cpu)
    return times


def start_dev(directory: Path) -> subprocess.Popen[str]:
    out = directory / "dev.out"
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    proc = subprocess.Popen([*CLUBHOUSE, "dev"], cwd=directory, env=env, text=True,
                            stdout=out.open("w"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    while "partitions assigned" not in out.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"clubhouse dev did not come up:\n{out.read_text()[-2000:]}")
        time.sleep(0.2)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per figure")
    args = parser.parse_args()
    runs = args.runs

    bare = wall_times([sys.executable, "-c", "pass"], runs)
    eager = wall_times([sys.executable, "-c", EAGER_IMPORTS], runs)
    help_cmd = [*CLUBHOUSE, "send", "create-agent", "--help"]
    help_ = wall_times(help_cmd, runs)
    with tempfile.TemporaryDirectory(prefix="clubhouse-cli-bench-") as tmp:
        directory = Path(tmp)
        dev = start_dev(directory)
        try:
            send = [*CLUBHOUSE, "send", "process-message", "--agent-id", "b1", "--content", "hi"]
            wall_times([*CLUBHOUSE, "send", "create-agent", "--agent-id", "b1"], 1, directory)
            wall_times(send, 1, directory)  # warm-up: topics, page cache
            trips = wall_times(send, runs, directory)
        finally:
            dev.send_signal(signal.SIGINT)
            dev.wait(60)

    def row(
        name: str, command: list[str], times: list[float], target: float | None
    ) -> list[object]:
        best, median = min(times), statistics.median(times)
        return [
            name, f"{best:.3f}", f"{median:.3f}", f"{CPU[' '.join(command)]:.3f}",
            f"{median / statistics.median(bare):.1f}x", f"{median / statistics.median(eager):.2f}x",
            "" if target is None else ("yes" if median < target else "NO"),
        ]  # fmt: skip

    load = os.getloadavg()[0]
    print(f"{runs} processes per figure; load average {load:.1f} on {os.cpu_count()} cores\n")
    print(table(
        ["command", "best s", "median s", "cpu s", "vs python -c pass", "vs eager imports",
         "median under target"],
        [
            row("python -c pass", [sys.executable, "-c", "pass"], bare, None),
            row("eager imports (old send start-up)", [sys.executable, "-c", EAGER_IMPORTS],
                eager, None),
            row("send create-agent --help", help_cmd, help_, 0.3),
            row("send process-message (warm round trip)", send, trips, SEND_TARGET_S),
        ],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
