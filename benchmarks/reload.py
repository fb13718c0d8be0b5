"""``clubhouse dev --reload``: seconds from saving an edited handler to its first answer.

Run: ``.venv/bin/python benchmarks/reload.py [--edits 5] [--broker kafka]``

A one-handler app in a temporary folder is served by ``clubhouse dev --app rapp:app
--reload``; each edit flips the text its handler answers, and a client sends the command
every 50 ms until the new text comes back. The baseline, measured in the same run: what a
user waits without --reload, from starting ``clubhouse dev`` to its first answer (the stack,
the registry and the service all starting). Target: an edit answered within 2 s.

Most of a reload is the restarted instance joining its consumer group: Tansu completes a
join about half a session timeout (3 s with the dev tuning) after it starts; Apache Kafka,
as the dev stack configures it, at once. ``--broker kafka`` shows the difference.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import table

APP = '''
from clubhouse import App, Command, Context, Response

class Ping(Command):
    message_type: str = "command.ping"
    k: str

class Pong(Response):
    message_type: str = "response.pong"
    text: str

app = App(prefix="reload")

@app.command(Ping, key="k")
def ping(cmd: Ping, ctx: Context) -> Pong:
    return Pong(text="v0")
'''


def _answer(client: object, ping: type, text: str, deadline: float) -> float:
    """Send until the answer is ``text``; the time it came."""
    while True:
        try:
            got = client.request(ping(k="k"), timeout=2).text  # type: ignore[attr-defined]
        except Exception:
            got = None
        if got == text:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit(f"no {text!r} answer in time")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5, help="edits to time")
    parser.add_argument("--broker", choices=["tansu", "kafka"], default="tansu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clubhouse-reload-bench-") as tmp:
        folder = Path(tmp) / "app"
        folder.mkdir()
        source = folder / "rapp.py"
        source.write_text(APP)
        env = {k: v for k, v in os.environ.items()
               if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
        started = time.monotonic()
        dev = subprocess.Popen(
            [sys.executable, "-m", "clubhouse.cli.main", "dev", "--app", "rapp:app", "--reload",
             "--data-dir", str(Path(tmp) / "data"), "--broker", args.broker],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            dev_env = Path(tmp) / "data" / "dev.env"
            while not dev_env.exists():
                if dev.poll() is not None or time.monotonic() - started > 120:
                    raise SystemExit("clubhouse dev did not start")
                time.sleep(0.1)
            values = dict(line.removeprefix("export ").split("=", 1)
                          for line in dev_env.read_text().split("\n") if "=" in line)  # fmt: skip
            sys.path.insert(0, str(folder))
            import rapp

            from clubhouse import ClubhouseClient
            from clubhouse.messaging.serde import SchemaNotRegisteredError

            while True:  # until the service has registered the app's schemas
                try:
                    client = ClubhouseClient.connect(values["KAFKA_BOOTSTRAP_SERVERS"],
                                                     values["SCHEMA_REGISTRY_URL"], app=rapp.app)
                    break
                except SchemaNotRegisteredError:
                    if time.monotonic() - started > 120:
                        raise
                    time.sleep(0.1)
            with client:
                cold = _answer(client, rapp.Ping, "v0", started + 180) - started
                reloads = []
                for n in range(1, args.edits + 1):
                    saved = time.monotonic()
                    source.write_text(APP.replace('"v0"', f'"v{n}"'))
                    reloads.append(_answer(client, rapp.Ping, f"v{n}", saved + 120) - saved)
        finally:
            dev.send_signal(signal.SIGINT)
            dev.wait(60)
    median = statistics.median(reloads)
    load = os.getloadavg()[0]
    print(f"{args.edits} edits on {args.broker}; load average {load:.1f} on "
          f"{os.cpu_count()} cores\n")
    print(table(
        ["figure", "seconds", "vs restarting clubhouse dev", "under 2 s"],
        [
            ["clubhouse dev start to first answer (baseline)", f"{cold:.2f}", "1.00x", ""],
            ["edit saved to first new answer, median", f"{median:.2f}",
             f"{median / cold:.2f}x", "yes" if median < 2.0 else "NO"],
            ["edit saved to first new answer, best", f"{min(reloads):.2f}",
             f"{min(reloads) / cold:.2f}x", ""],
        ],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
