"""Registry throughput and latency: lookup, get-by-id and register, 16 concurrent clients.

Run: ``.venv/bin/python benchmarks/registry.py [--seconds S] [--clients N]``

Besides the table, it prints the latency of new registrations (every request a new subject
with a new schema, so each one is written and committed) over all rounds together: p50 and
p99 beside the baseline's POST in the same run. The registry's target is a p99 under 20 ms
with 16 clients registering at once.

Large schemas: ``.venv/bin/python benchmarks/registry.py --large [--fields N]
[--giant-fields M]`` times parsing an N-field record (the ``avro`` package's own parser is
the baseline in the same run), a compatibility check of it over HTTP, and a small new
registration alone (the baseline) and while two compatibility checks of M-field records
are in flight.

It starts its own registry on a temporary database through the dev-stack supervisor, and,
as the baseline in the same run, a trivial Starlette app on the same uvicorn settings
whose endpoints only read the request and answer a small JSON body. The ratio column is
registry requests/s divided by the baseline's for the same kind of request, so it shows what
the registry itself costs on top of HTTP + ASGI.

The load generator is a minimal keep-alive HTTP/1.1 client on asyncio streams: with two
cores shared by client and server, a full HTTP client library would spend more CPU than the
servers under test and flatten every figure towards its own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import best_seconds, percentile, table
from clubhouse.devstack import RegistryConfig, RegistryServer
from clubhouse.devstack.launch import Readiness, start_on_port
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.registry import answers_http

BASELINE = "baseline server"
NEW_REGISTRATION = "register (new schema)"
NEW_REGISTRATION_P99_TARGET_MS = 20.0


# ---- the baseline server ------------------------------------------------------------------


def serve_baseline(port: int) -> None:
    """A Starlette app as thin as an endpoint gets, on the registry's uvicorn settings."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from clubhouse.registry.server import bind

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(b'{"id":1}', media_type="application/vnd.schemaregistry.v1+json")

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    sock = bind("127.0.0.1", port)  # the registry's own socket set-up, TCP_NODELAY included
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


# ---- a tiny keep-alive client -------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes = b""

    def encode(self, port: int) -> bytes:
        head = (
            f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: application/vnd.schemaregistry.v1+json\r\n"
        )
        if self.body:
            head += (
                "Content-Type: application/vnd.schemaregistry.v1+json\r\n"
                f"Content-Length: {len(self.body)}\r\n"
            )
        return (head + "\r\n").encode() + self.body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _load(
    port: int, make: Callable[[int, int], Call], clients: int, seconds: float
) -> tuple[int, list[float], float]:
    """Run ``clients`` connections for ``seconds``; client c's n-th request is make(c, n)."""
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0

    async def client(index: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while time.perf_counter() < stop_at:
            request = make(index, n).encode(port)
            start = time.perf_counter()
            status = await _exchange(reader, writer, request)
            latencies.append(time.perf_counter() - start)
            if status >= 300:
                errors += 1
            n += 1
        writer.close()

    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{errors} requests failed; the benchmark is not measuring success")
    return len(latencies), latencies, elapsed


@dataclass(frozen=True)
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float


def measure(
    name: str, port: int, make: Callable[[int, int], Call], clients: int, seconds: float
) -> tuple[Result, list[float]]:
    """The row's figures for one round, and every request's latency in seconds."""
    asyncio.run(_load(port, make, clients, min(0.5, seconds / 4)))  # warm-up
    count, latencies, elapsed = asyncio.run(_load(port, make, clients, seconds))
    latencies.sort()
    result = Result(
        name, count / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    )
    return result, latencies


def pooled_rows(pooled: dict[str, list[float]], names: list[str]) -> list[list[str]]:
    """p50 and p99 of each named row over all its rounds, and p99 as a multiple of the last."""
    figures = {}
    for name in names:
        latencies = sorted(pooled[name])
        figures[name] = (
            len(latencies),
            percentile(latencies, 50) * 1000,
            percentile(latencies, 99) * 1000,
        )
    base_name = names[-1]
    base_p99 = figures[base_name][2]
    return [
        [name, f"{count:,}", f"{p50:.2f}", f"{p99:.2f}", f"{p99 / base_p99:.1f}x {base_name}"]
        for name, (count, p50, p99) in figures.items()
    ]


# ---- processes ----------------------------------------------------------------------------


def start_baseline(log: Path) -> tuple[ManagedProcess, int]:
    """The baseline app as a supervised child on a free port, ready to answer."""

    def spec(port: int) -> ProcessSpec:
        return ProcessSpec(BASELINE, (sys.executable, __file__, "--serve-baseline", str(port)), log)

    def readiness(port: int) -> Readiness:
        url = f"http://127.0.0.1:{port}/"
        return Readiness(lambda: answers_http(url), f"GET {url}")

    return start_on_port(
        BASELINE, host="127.0.0.1", port=None, make_spec=spec, make_readiness=readiness, timeout=30
    )


def schema(name: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "clubhouse.bench",
            "fields": [
                {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
                {"name": "agent_id", "type": "string"},
                {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
                {"name": "payload", "type": {"type": "map", "values": "string"}},
                {"name": "note", "type": ["null", "string"], "default": None},
            ],
        }
    )


def body(text: str) -> bytes:
    return json.dumps({"schema": text}).encode()


# ---- large schemas ------------------------------------------------------------------------


def wide(fields: int, name: str = "Wide", extra: int = 0) -> str:
    """A record of ``fields`` longs plus ``extra`` strings with defaults, as JSON text."""
    declared: list[dict[str, object]] = [{"name": f"f{i}", "type": "long"} for i in range(fields)]
    declared += [{"name": f"g{i}", "type": "string", "default": ""} for i in range(extra)]
    return json.dumps({"type": "record", "name": name, "fields": declared})


def parse_rows(fields: int, repeats: int) -> list[list[str]]:
    """In-process parse of a ``fields``-wide record: the avro package's parser vs ours."""
    import avro.name
    import avro.schema

    from clubhouse.registry import canonical

    text = wide(fields)
    data = json.loads(text)
    stock = best_seconds(
        lambda: avro.schema.make_avsc_object(data, avro.name.Names(validate_names=True)),
        repeats,
    )
    rows = [[f"avro.schema parse, {fields:,} fields", f"{stock:.3f}", "1.00x (baseline)"]]
    try:
        from clubhouse.avro.schema_builder import build_schema
    except ImportError:  # a tree from before the linear builder: the baseline is all there is
        return rows
    ours = best_seconds(lambda: build_schema(data, avro.name.Names(validate_names=True)), repeats)
    whole = best_seconds(lambda: canonical.parse(text), repeats)
    rows.append(
        [f"clubhouse build_schema, {fields:,} fields", f"{ours:.3f}", f"{stock / ours:.1f}x faster"]
    )
    rows.append(
        [
            "registry parse (fastavro + avro + texts)",
            f"{whole:.3f}",
            f"{stock / whole:.1f}x faster",
        ]
    )
    return rows


def _timed_post(http: object, path: str, body: bytes) -> tuple[float, int]:
    import httpx

    assert isinstance(http, httpx.Client)
    start = time.perf_counter()
    answer = http.post(path, content=body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - start, answer.status_code


def http_rows(port: int, fields: int, giant_fields: int, repeats: int) -> list[list[str]]:
    """Over HTTP: a wide compatibility check, and small registrations beside giant checks."""
    import threading

    import httpx

    url = f"http://127.0.0.1:{port}"
    rows: list[list[str]] = []
    with httpx.Client(base_url=url, timeout=600) as http:
        http.put("/config", json={"compatibility": "FULL"})
        seconds, status = _timed_post(http, "/subjects/wide/versions", body(wide(fields)))
        if status != 200:
            raise RuntimeError(f"registering the {fields}-field schema answered {status}")
        rows.append([f"register {fields:,}-field schema", f"{seconds:.3f}", ""])
        check = body(wide(fields, extra=1))
        checks = [
            _timed_post(http, "/compatibility/subjects/wide/versions", check)
            for _ in range(repeats)
        ]
        rows.append(
            [f"compatibility check, {fields:,} fields", f"{min(c[0] for c in checks):.3f}", ""]
        )

        seconds, status = _timed_post(http, "/subjects/giant/versions", body(wide(giant_fields)))
        rows.append(
            [f"register {giant_fields:,}-field schema", f"{seconds:.3f}", f"status {status}"]
        )

        counter = iter(range(1_000_000))

        def small() -> float:
            n = next(counter)
            seconds, status = _timed_post(
                http, f"/subjects/small-{n}/versions", body(schema(f"Small{n}"))
            )
            if status != 200:
                raise RuntimeError(f"a small registration answered {status}")
            return seconds

        alone = min(small() for _ in range(repeats))
        rows.append(["small new registration, alone", f"{alone:.3f}", "1.00x (baseline)"])

        giant_check = body(wide(giant_fields, extra=1))
        giant_times: list[float] = []

        def giant() -> None:
            with httpx.Client(base_url=url, timeout=600) as own:
                giant_times.append(
                    _timed_post(own, "/compatibility/subjects/giant/versions", giant_check)[0]
                )

        threads = [threading.Thread(target=giant) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # let both giant checks reach the server
        beside = [small() for _ in range(repeats)]
        worst = max(beside)
        for thread in threads:
            thread.join()
        rows.append(
            [
                f"small new registration, 2 x {giant_fields:,}-field checks in flight (worst)",
                f"{worst:.3f}",
                f"{worst / alone:.1f}x the baseline",
            ]
        )
        rows.append(
            [f"each {giant_fields:,}-field compatibility check", f"{max(giant_times):.3f}", ""]
        )
    return rows


def large_main(fields: int, giant_fields: int, repeats: int, parse_only: bool) -> None:
    print(f"{os.cpu_count()} CPUs shared by client and server; best of {repeats} unless noted")
    print(table(["in process", "seconds", "ratio"], parse_rows(fields, repeats)))
    if parse_only:
        return
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        directory = Path(tmp)
        registry = RegistryServer(
            RegistryConfig(db_path=directory / "registry.db", log_path=directory / "r.log")
        )
        try:
            registry.start()
            rows = http_rows(registry.port, fields, giant_fields, repeats)
        finally:
            registry.stop()
    print(table(["over HTTP, one registry", "seconds", "ratio"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per row")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each row keeps its best")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--large", action="store_true", help="the large-schema figures instead")
    parser.add_argument("--fields", type=int, default=20_000, help="width of the --large record")
    parser.add_argument(
        "--giant-fields", type=int, default=40_000, help="width of the records checked alongside"
    )
    parser.add_argument("--parse-only", action="store_true", help="--large, in process only")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline is not None:
        serve_baseline(args.serve_baseline)
        return
    if args.large:
        large_main(args.fields, args.giant_fields, args.rounds, args.parse_only)
        return

    import httpx

    known = body(schema("Known"))
    # Warm-up and every round draw from it, so no request ever repeats a subject or schema.
    fresh = itertools.count()
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        directory = Path(tmp)
        baseline, base_port = start_baseline(directory / "b.log")
        registry = RegistryServer(
            RegistryConfig(db_path=directory / "registry.db", log_path=directory / "r.log")
        )
        try:
            registry.start()
            port = registry.port
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                http.put("/config", json={"compatibility": "NONE"})
                known_id = http.post(
                    "/subjects/bench-value/versions",
                    content=known,
                    headers={"Content-Type": "application/json"},
                ).json()["id"]
            rows: list[tuple[str, int, Callable[[int, int], Call], str]] = [
                (
                    "lookup",
                    port,
                    lambda c, n: Call("POST", "/subjects/bench-value", known),
                    "baseline POST",
                ),
                (
                    "get-by-id",
                    port,
                    lambda c, n: Call("GET", f"/schemas/ids/{known_id}"),
                    "baseline GET",
                ),
                (
                    "register (existing)",
                    port,
                    lambda c, n: Call("POST", "/subjects/bench-value/versions", known),
                    "baseline POST",
                ),
                (
                    NEW_REGISTRATION,
                    port,
                    lambda c, n: new_registration(next(fresh)),
                    "baseline POST",
                ),
                (
                    "baseline GET",
                    base_port,
                    lambda c, n: Call("GET", "/schemas/ids/1"),
                    "baseline GET",
                ),
                (
                    "baseline POST",
                    base_port,
                    lambda c, n: Call("POST", "/subjects/bench-value", known),
                    "baseline POST",
                ),
            ]
            # Rows alternate within each round, so load from anything else on the machine
            # hits registry and baseline alike; the best round of each row is reported.
            best: dict[str, Result] = {}
            pooled: dict[str, list[float]] = {name: [] for name, _, _, _ in rows}
            for _ in range(args.rounds):
                for name, row_port, make, _ in rows:
                    result, latencies = measure(name, row_port, make, args.clients, args.seconds)
                    pooled[name].extend(latencies)
                    if name not in best or result.rate > best[name].rate:
                        best[name] = result
        finally:
            registry.stop()
            baseline.stop()

    table_rows = []
    for name, _, _, base_name in rows:
        result, base = best[name], best[base_name]
        table_rows.append(
            [
                name,
                f"{result.rate:,.0f}",
                f"{result.p50_ms:.2f}",
                f"{result.p99_ms:.2f}",
                f"{result.rate / base.rate:.2f}x {base_name}",
            ]
        )
    print(
        f"{args.clients} concurrent keep-alive clients on loopback; best of {args.rounds} "
        f"rounds of {args.seconds:g}s per row; {os.cpu_count()} CPUs shared by client and "
        "servers"
    )
    print(table(["request", "requests/s", "p50 ms", "p99 ms", "ratio to baseline"], table_rows))
    print()
    print(
        f"New registrations, {args.clients} clients registering at once, all {args.rounds} "
        "rounds together (each request a new subject and schema, written and committed):"
    )
    latency_rows = pooled_rows(pooled, [NEW_REGISTRATION, "baseline POST"])
    print(table(["request", "requests", "p50 ms", "p99 ms", "p99 ratio to baseline"], latency_rows))
    p99 = float(latency_rows[0][3])
    verdict = "met" if p99 < NEW_REGISTRATION_P99_TARGET_MS else "NOT met"
    print(f"target p99 < {NEW_REGISTRATION_P99_TARGET_MS:g} ms: {verdict} ({p99:.2f} ms)")


def new_registration(n: int) -> Call:
    """The ``n``-th new registration: a subject and a schema no request used before."""
    return Call("POST", f"/subjects/bench-new-{n}/versions", body(schema(f"New{n}")))


if __name__ == "__main__":
    main()
