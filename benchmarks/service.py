"""End-to-end ProcessMessage round trips through the Clubhouse service, against the floor
and, with ``--peers``, against Kafka Streams and FastStream doing the same job.

Run: ``.venv/bin/python benchmarks/service.py [--broker tansu|kafka] [--requests 300]
[--burst 2000] [--bursts 5] [--instances 1 2 3] [--restore-keys 10000]``, or
``.venv/bin/python benchmarks/service.py --broker kafka --peers [--rounds 3] [--keys 100]
[--peer-warmup 30000] [--bursts 5] [--pace 500] [--paced 3000] [--peer-systems NAME ...]``

Without ``--peers``, four parts, one after the other on the same broker:

  1. the floor against Clubhouse on one key: the raw echo below, then the service with
     ``--processing-guarantee exactly-once`` (the default), ``at-least-once``, and
     exactly-once with ``--commit-interval-ms 100`` (Kafka Streams' default interval);
  2. scaling: 1, 2 and 3 service instances in one consumer group, exactly-once, commands
     spread over 30 keys (every partition has work); CPU per command summed over them;
  3. restore: 10,000 keys written through the service, then a fresh instance with an empty
     state dir rebuilds them from the changelog, against a raw ``read_committed`` consumer
     reading the same records (the floor);
  4. the target check: service CPU per command at exactly-once.

With ``--peers``, only the peers comparison (``benchmarks/peers/``): Clubhouse exactly-once,
at-least-once and exactly-once committing every 100 ms, Kafka Streams (``exactly_once_v2``,
a RocksDB store with its changelog) committing every 100 ms (its default) and every poll,
and FastStream acking each command after publishing its answer, all on one broker, one at a
time, over ``--rounds`` alternating rounds, each system on a fresh topic prefix per round and
warmed up with ``--peer-warmup`` commands first (the JVM's JIT needs ~30,000). The job is the
echo agent's: a framed Avro ``ProcessMessageCommand`` updates its key's state and is answered
on the same key by a framed ``MessageProcessedResponse`` (and an ``AgentThinkingEvent``). The
peers speak Clubhouse's topics and wire format, so one driver (``peers/driver.py``) measures
every system: burst throughput over ``--keys`` keys, p50/p99 latency at a paced ``--pace``
commands/s, the CPU of the system's own process per command during the bursts, and its peak
RSS. The report puts issue 25's figures ("before") beside the new ones and prints the ratios
Clubhouse / Kafka Streams and Clubhouse / FastStream (throughput, CPU per command); the
method is in ``peers/compare.py``'s docstring.

How the peers are built: the Kafka Streams app is one Java file (``peers/EchoStreams.java``);
on first use Maven resolves kafka-streams 4.1.1 and Apache Avro 1.12.1 into the Clubhouse
cache (``clubhouse.devstack.maven``) and javac compiles it there (``peers/streams.py``). It
frames Avro itself (Confluent's serializers are not on Maven Central), with the schemas and
ids that the benchmark registers and writes to a contract file (``peers/contract.py``). The
FastStream app (``peers/faststream_echo.py``) needs ``.venv/bin/pip install
'faststream[confluent]==0.7.8'``; it is not a Clubhouse dependency. A peer whose tools are
missing (java, javac, mvn; faststream) is skipped with one line. Both run as child processes,
as the service does, so /proc gives each one's CPU and RSS. They are benchmarks, never tests.

The parts: one run starts a broker (Tansu by default; ``--broker kafka``: a one-node Apache Kafka
cluster, the JVM warmed up by the same warm-up requests) and an embedded registry through
the dev-stack supervisor and
measures two paths on that broker, one after the other (never both at once), the same way:

  raw echo  - the floor: an echo process consumes a topic with plain confluent-kafka and
              produces every record, unchanged, to a reply topic, flushing after each batch
              (so no reply sits out ``linger.ms``). No Avro, no database, no offset commits.
  clubhouse - the real service (``clubhouse run --kafka-dev-tuning``) answering
              ``ProcessMessageCommand``s for one "echo" agent, driven by ``ClubhouseClient``.

What the two paths share, so that the ratio means something: the broker; the producer and
consumer configuration (``KafkaSettings(dev_tuning=True)``, see docs/architecture.md, "Tansu
and Apache Kafka": e.g. ``fetch.wait.max.ms=10``, idempotent producers); three partitions
per topic; one key (one agent, so one partition); the request bytes (the raw driver sends
the framed Avro command the client would send, encoded before the clock starts); batches of
up to 200 records on the consuming side; and the driver's method: publish, wait for the
broker's acknowledgement, then read replies from the reply topic's end (no consumer group),
matched by message id.

  latency    - ``--requests`` sequential single round trips; p50 and p99, nearest rank.
  throughput - a burst of ``--burst`` requests published at once, timed until the last
               reply has arrived; the best of ``--bursts`` bursts.

Both paths are warmed up first (group join, connections, first-use caches).

Also printed: the CPU each process used per command during the bursts (Linux ``/proc``),
which shows where a throughput ceiling comes from.

``--profile-service FILE`` runs the service in a thread of this process (as ``--in-thread``)
under cProfile, writes the stats of that thread to FILE (read them with ``python -m pstats``)
and prints the functions with the most cumulative time. Profiling slows the service down:
the figures of such a run are for finding hot spots, not for comparing.

Why the service (and, to match, the echo) runs as a child process, not a thread: a thread
would share the driver's GIL, and in a deployment the client is another process; as a child
the service also gets its own CPU figure. ``--in-thread`` runs both in threads of this
process instead. Measured here, it made no difference beyond run-to-run noise (Clubhouse
1,858 and 1,647 commands/s in threads, 1,843 and 1,624 as processes; p50 9-10 ms either way):
the service's own thread is the bottleneck, and the driver spends its time waiting inside
librdkafka, which releases the GIL.

The machine is small (``os.cpu_count()`` cores, 2 where this was written), shared by the
broker, the registry, the service or echo process and this driver: the figures compare the
two paths with each other, not with a real Kafka cluster. The raw echo's bursts last tens of
milliseconds, so its throughput moves a lot between runs (20k-50k/s seen here).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import percentile, process_cpu_s, table
from benchmarks.peers.compare import Options, peers_report, run_peers
from benchmarks.peers.systems import Place, System, faststream_systems, streams_systems
from clubhouse.agents.messages import (
    CreateAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
    agents_catalog,
)
from clubhouse.app import ClubhouseService, ServiceConfig
from clubhouse.client import ClubhouseClient
from clubhouse.devstack import RegistryConfig, RegistryServer
from clubhouse.devstack.brokers import BROKER_KINDS, Broker, create_broker
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.runner import shutdown_signals
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.subjects import all_topics
from clubhouse.runtime.changelog import changelog_topic
from clubhouse.services.kafka import KafkaAdmin, KafkaConsumer, KafkaSettings
from clubhouse.services.kafka_admin import TopicSpec
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings

PARTITIONS = 3  # the service's default for the topics it creates; the echo's topics match
KEYS = 30  # agents the scaling runs spread their commands over, so every partition has work
BATCH = 200  # the service's default batch size; the echo batches the same way
AGENT_ID = "bench-agent"
CONTENT = "The quick brown fox jumps over the lazy dog; benchmark payload 0123456789."
TIMEOUT_S = 60.0  # per round trip or burst: a bound on a run that has gone wrong, not a target

Headers = list[tuple[str, str | bytes | None]]

# Runs ``count`` round trips when called; preparing them (building, encoding) is not timed.
RoundTrips = Callable[[], None]
Prepare = Callable[[int], RoundTrips]
CpuProbe = Callable[[], dict[str, float]]


@dataclass(frozen=True, slots=True)
class Figures:
    rate: float  # commands per second, best burst
    latencies_ms: list[float]  # sorted
    cpu_us: dict[str, float]  # CPU microseconds per command during the bursts, by process

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


def measure(
    prepare: Prepare, cpu: CpuProbe, *, requests: int, burst: int, bursts: int, warmup: int
) -> Figures:
    """Warm up, then sequential latency and best-of-``bursts`` pipelined throughput."""
    for _ in range(warmup):
        prepare(1)()
    prepare(min(burst, 500))()
    latencies: list[float] = []
    for _ in range(requests):
        go = prepare(1)
        start = time.perf_counter()
        go()
        latencies.append((time.perf_counter() - start) * 1000)
    best = 0.0
    used: dict[str, float] = {}
    for _ in range(bursts):
        go = prepare(burst)
        before = cpu()
        start = time.perf_counter()
        go()
        best = max(best, burst / (time.perf_counter() - start))
        for name, seconds in cpu().items():
            used[name] = used.get(name, 0.0) + seconds - before[name]
    per_command = {name: seconds / (burst * bursts) * 1e6 for name, seconds in used.items()}
    return Figures(best, sorted(latencies), per_command)


def cpu_probe(pids: dict[str, int]) -> CpuProbe:
    """CPU seconds so far of each named process; nothing where /proc is missing."""
    if not Path("/proc/self/stat").exists():
        return dict
    return lambda: {name: process_cpu_s(pid) for name, pid in pids.items()}


def commands(count: int) -> list[ProcessMessageCommand]:
    return [
        ProcessMessageCommand(agent_id=AGENT_ID, content=CONTENT, conversation_id="bench")
        for _ in range(count)
    ]


# -- the floor: a raw confluent-kafka echo ---------------------------------------------------


def echo_loop(
    settings: KafkaSettings, in_topic: str, out_topic: str, stop: threading.Event
) -> None:
    """Consume ``in_topic`` and produce every record unchanged to ``out_topic`` until ``stop``."""
    consumer = Consumer(
        settings.consumer_config(group_id=f"{in_topic}-echo", auto_offset_reset="earliest")
    )
    producer = Producer(settings.producer_config(idempotence=True))
    consumer.subscribe([in_topic])
    try:
        while not stop.is_set():
            first = consumer.poll(0.1)
            if first is None:
                continue
            # What has already arrived joins the batch; consume() with no timeout never waits.
            batch: list[Message] = [first, *consumer.consume(BATCH - 1, 0)]
            for msg in batch:
                if msg.error() is None:
                    producer.produce(out_topic, msg.value(), msg.key(), headers=msg.headers())
            producer.flush(30)
    finally:
        consumer.close()
        producer.flush(5)


def echo_main(bootstrap: str, in_topic: str, out_topic: str) -> None:
    """The echo child process: runs until SIGTERM."""
    with shutdown_signals() as stop:
        echo_loop(KafkaSettings(bootstrap, dev_tuning=True), in_topic, out_topic, stop)


class RawDriver:
    """Sends pre-encoded commands with confluent-kafka and waits for their echoes."""

    def __init__(
        self, settings: KafkaSettings, serde: MessageSerde, topics: tuple[str, str]
    ) -> None:
        self._serde = serde
        self._requests, replies = topics
        self._producer = Producer(settings.producer_config(idempotence=True))
        self._replies = Consumer(
            settings.consumer_config(
                group_id=f"{replies}-reader-{uuid.uuid4().hex}", auto_offset_reset="latest"
            )
        )
        # Like ClubhouseClient: read the reply topic from its current end, no group join
        # (positions found the client's way, which waits out a leader election on Kafka).
        probe = KafkaConsumer(settings)
        try:
            ends = probe.end_offsets(replies, timeout=10)
        finally:
            probe.close()
        self._replies.assign([TopicPartition(e.topic, e.partition, e.offset) for e in ends])

    def prepare(self, count: int) -> RoundTrips:
        records: list[tuple[bytes, bytes, Headers]] = [
            (
                AGENT_ID.encode(),
                self._serde.serialize(c),
                [
                    ("message_type", c.message_type.encode()),
                    ("message_id", str(c.message_id).encode()),
                ],
            )
            for c in commands(count)
        ]
        return lambda: self._round_trips(records)

    def _round_trips(self, records: list[tuple[bytes, bytes, Headers]]) -> None:
        pending = {headers[1][1] for _, _, headers in records}
        for key, value, headers in records:
            self._producer.produce(self._requests, value, key, headers=headers)
        self._producer.flush(30)
        deadline = time.monotonic() + TIMEOUT_S
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"raw echo: {len(pending)} replies missing")
            first = self._replies.poll(min(remaining, 0.5))
            if first is None:
                continue
            for msg in [first, *self._replies.consume(500, 0)]:
                if msg.error() is None:
                    pending.discard(dict(msg.headers() or ()).get("message_id", b""))

    def close(self) -> None:
        self._replies.close()
        self._producer.flush(10)

    def request_size(self) -> int:
        return len(self._serde.serialize(commands(1)[0]))


# -- Clubhouse --------------------------------------------------------------------------------


class ClubhouseDriver:
    """Round trips through ``ClubhouseClient``: ``request`` alone, ``request_many`` in bursts;
    the commands go round the given agents."""

    def __init__(self, client: ClubhouseClient, agents: Sequence[str]) -> None:
        self._client = client
        self._agents = agents
        self._next = 0

    def prepare(self, count: int) -> RoundTrips:
        cmds = commands(count)
        for command in cmds:
            command.agent_id = self._agents[self._next % len(self._agents)]
            self._next += 1
        if count == 1:
            return lambda: self._check([self._client.request(cmds[0], TIMEOUT_S)])
        return lambda: self._check(list(self._client.request_many(cmds, TIMEOUT_S).values()))

    @staticmethod
    def _check(answers: Sequence[object]) -> None:
        # An ErrorResponse is as fast as a real answer; the benchmark must not count those.
        wrong = [a for a in answers if not isinstance(a, MessageProcessedResponse)]
        if wrong:
            raise RuntimeError(f"unexpected answer: {wrong[0]!r}")


# -- the run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stack:
    directory: Path
    settings: KafkaSettings
    registry_url: str
    broker_pid: int
    in_thread: bool

    def registry(self) -> ConfluentSchemaRegistry:
        return ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[self.registry_url]))

    def cpu(self, worker: threading.Thread | ManagedProcess) -> CpuProbe:
        """CPU of the broker, the driver and (as a child process) the echo or service."""
        pids = {"broker": self.broker_pid, "driver": os.getpid()}
        if isinstance(worker, ManagedProcess):
            pids["worker"] = worker.pid
        return cpu_probe(pids)


def child(stack: Stack, name: str, argv: list[str]) -> ManagedProcess:
    proc = ManagedProcess(ProcessSpec(name, argv, stack.directory / f"{name}.log"))
    proc.start()
    return proc


def topics_exist(admin: KafkaAdmin, names: Sequence[str]) -> Callable[[], bool]:
    return lambda: set(names) <= set(admin.list_topics())


def run_raw(stack: Stack, serde: MessageSerde, args: argparse.Namespace) -> tuple[Figures, int]:
    topics = ("bench-raw-requests", "bench-raw-replies")
    admin = KafkaAdmin(stack.settings)
    admin.ensure_topics([TopicSpec(t, partitions=PARTITIONS) for t in topics])
    stop = threading.Event()
    worker: threading.Thread | ManagedProcess
    if stack.in_thread:
        worker = threading.Thread(target=echo_loop, args=(stack.settings, *topics, stop))
        worker.start()
    else:
        argv = [sys.executable, __file__, "--echo-worker", stack.settings.bootstrap_servers,
                *topics]  # fmt: skip
        worker = child(stack, "raw-echo", argv)
    driver = RawDriver(stack.settings, serde, topics)
    try:
        figures = measure(driver.prepare, stack.cpu(worker), requests=args.requests,
                          burst=args.burst, bursts=args.bursts, warmup=args.warmup)  # fmt: skip
        return figures, driver.request_size()
    finally:
        driver.close()
        if isinstance(worker, threading.Thread):
            stop.set()
            worker.join(30)
        else:
            worker.stop()


@dataclass(frozen=True, slots=True)
class Run:
    """One Clubhouse configuration to measure."""

    name: str
    guarantee: str = "exactly-once"
    instances: int = 1
    keys: int = 1
    commit_interval_ms: int = 0


def service_argv(stack: Stack, prefix: str, run: Run, index: int) -> list[str]:
    return [
        sys.executable, "-m", "clubhouse.cli.main", "run",
        "--bootstrap-servers", stack.settings.bootstrap_servers,
        "--schema-registry-url", stack.registry_url, "--topic-prefix", prefix,
        "--state-dir", str(stack.directory / prefix / f"state-{index}"),
        "--instance-id", f"bench-{index}", "--processing-guarantee", run.guarantee,
        "--partitions", str(PARTITIONS), "--kafka-dev-tuning",
        "--commit-interval-ms", str(run.commit_interval_ms),
    ]  # fmt: skip


def start_instances(stack: Stack, prefix: str, run: Run) -> list[ManagedProcess]:
    workers = [
        child(stack, f"{prefix}-{i}", service_argv(stack, prefix, run, i))
        for i in range(run.instances)
    ]
    # The service creates its topics after registering and loading every schema id.
    admin = KafkaAdmin(stack.settings)
    for worker in workers:
        worker.wait_ready(topics_exist(admin, all_topics(prefix)), "topics", TIMEOUT_S)
    return workers


def run_clubhouse(stack: Stack, args: argparse.Namespace, run: Run) -> Figures:
    prefix = f"bench-{run.name}"
    stop = threading.Event()
    workers: list[ManagedProcess] = []
    thread: threading.Thread | None = None
    if stack.in_thread and run.instances == 1:
        config = ServiceConfig(
            kafka=stack.settings,
            registry=RegistrySettings(urls=[stack.registry_url]),
            topic_prefix=prefix,
            state_dir=stack.directory / prefix / "state",
            processing_guarantee="at-least-once"
            if run.guarantee == "at-least-once"
            else "exactly-once",
            commit_interval_ms=run.commit_interval_ms,
        )
        service = ClubhouseService(config)
        service.start()
        target = service.run
        if args.profile_service:
            target = profiled(service.run, args.profile_service)
        thread = threading.Thread(target=target, args=(stop,))
        thread.start()
    else:
        workers = start_instances(stack, prefix, run)
    registry = stack.registry()  # the client may look up writer schemas while it decodes
    client = ClubhouseClient.connect(stack.settings, registry, topic_prefix=prefix)
    agents = [AGENT_ID] if run.keys == 1 else [f"{AGENT_ID}-{i}" for i in range(run.keys)]
    try:
        # The first requests also wait out the group joins (~3 s on Tansu).
        client.request_many(
            [CreateAgentCommand(agent_id=a, personality_type="echo") for a in agents], TIMEOUT_S
        )
        driver = ClubhouseDriver(client, agents)
        pids = {"broker": stack.broker_pid, "driver": os.getpid()}
        pids.update({f"worker-{i}": w.pid for i, w in enumerate(workers)})
        figures = measure(driver.prepare, cpu_probe(pids), requests=args.requests,
                          burst=args.burst, bursts=args.bursts, warmup=args.warmup)  # fmt: skip
        services = sum(v for k, v in figures.cpu_us.items() if k.startswith("worker-"))
        cpu = {k: v for k, v in figures.cpu_us.items() if not k.startswith("worker-")}
        if workers:
            cpu["worker"] = services
        return Figures(figures.rate, figures.latencies_ms, cpu)
    finally:
        client.close()
        registry.close()
        if thread is not None:
            stop.set()
            thread.join(60)
        for worker in workers:
            worker.stop(grace=30)


# -- peers: Clubhouse beside Kafka Streams and FastStream -----------------------------------


def clubhouse_system(stack: Stack, name: str, label: str, run: Run) -> System:
    """Clubhouse as a system of the peers comparison: one instance, its agents created."""

    def start(prefix: str, keys: Sequence[str]) -> list[ManagedProcess]:
        workers = start_instances(stack, prefix, run)
        try:
            with (
                stack.registry() as registry,
                ClubhouseClient.connect(stack.settings, registry, topic_prefix=prefix) as client,
            ):
                client.request_many(
                    [CreateAgentCommand(agent_id=k, personality_type="echo") for k in keys],
                    TIMEOUT_S,
                )
        except BaseException:
            for worker in workers:
                worker.stop(grace=30)
            raise
        return workers

    return System(name, label, start)


def run_peers_comparison(stack: Stack, args: argparse.Namespace) -> str:
    place = Place(stack.directory, stack.settings, stack.registry_url, stack.broker_pid)
    streams, streams_skipped = streams_systems(place)
    faststream, faststream_skipped = faststream_systems(place)
    systems = [
        clubhouse_system(stack, "eos", "Clubhouse exactly-once", Run("eos")),
        clubhouse_system(stack, "alo", "Clubhouse at-least-once", Run("alo", "at-least-once")),
        clubhouse_system(stack, "eos100", "Clubhouse exactly-once, commit every 100 ms",
                         Run("eos100", commit_interval_ms=100)),
        *streams,
        *faststream,
    ]  # fmt: skip
    if args.peer_systems:
        systems = [s for s in systems if s.name in args.peer_systems]
    skipped = [s for s in (streams_skipped, faststream_skipped) if s is not None]
    for line in skipped:
        print(line, file=sys.stderr)
    opts = Options(
        keys=args.keys, rounds=args.rounds, warmup=args.peer_warmup,
        warmup_seconds=args.peer_warmup_seconds, burst=args.peer_burst, bursts=args.bursts,
        pace=args.pace, paced=args.paced,
    )  # fmt: skip
    figures = run_peers(place, systems, opts)
    return peers_report(systems, figures, skipped, opts=opts, broker=args.broker_name)


@dataclass(frozen=True, slots=True)
class RestoreFigures:
    keys: int
    records: int
    restore_s: float  # the service's own measure: clubhouse_state_restore_seconds_sum
    ready_s: float  # from starting the fresh instance to its /readyz saying ready
    raw_read_s: float  # the floor: a raw read_committed consumer reading the same records


def run_restore(stack: Stack, keys: int) -> RestoreFigures:
    """Write ``keys`` agents, then time a fresh instance rebuilding them from the changelog."""
    prefix = "bench-restore"
    run = Run("restore")
    [worker] = start_instances(stack, prefix, run)
    registry = stack.registry()
    try:
        with ClubhouseClient.connect(stack.settings, registry, topic_prefix=prefix) as client:
            for start in range(0, keys, 2000):
                client.request_many(
                    [CreateAgentCommand(agent_id=f"r{i}", personality_type="echo")
                     for i in range(start, min(keys, start + 2000))], TIMEOUT_S,
                )  # fmt: skip
    finally:
        registry.close()
        worker.stop(grace=30)
    raw_read_s, records = read_changelog(stack.settings, changelog_topic(prefix))
    port = free_port()
    argv = [*service_argv(stack, prefix, run, 99), "--metrics-port", str(port)]
    started = time.perf_counter()
    fresh = child(stack, f"{prefix}-fresh", argv)
    try:
        fresh.wait_ready(lambda: ready(port), "restored", TIMEOUT_S * 5)
        ready_s = time.perf_counter() - started
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        restore_s = sample(text, "clubhouse_state_restore_seconds_sum")
        restored = int(sample(text, "clubhouse_state_restored_records_total"))
    finally:
        fresh.stop(grace=30)
    if restored != records:
        raise SystemExit(f"the fresh instance restored {restored} records, the log has {records}")
    return RestoreFigures(keys, records, restore_s, ready_s, raw_read_s)


def read_changelog(settings: KafkaSettings, topic: str) -> tuple[float, int]:
    """Seconds a plain read_committed consumer takes to read ``topic`` to its end."""
    conf = settings.consumer_config(group_id=f"bench-raw-{uuid.uuid4().hex}",
                                    auto_offset_reset="earliest")  # fmt: skip
    consumer = Consumer({**conf, "enable.partition.eof": True, "isolation.level": "read_committed"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    started = time.perf_counter()
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    done: set[int] = set()
    records = 0
    while len(done) < len(partitions):
        for msg in consumer.consume(1000, 1.0):
            err = msg.error()
            if err is None:
                records += 1
            elif err.code() == KafkaError._PARTITION_EOF:
                done.add(msg.partition())
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed, records


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def sample(metrics_text: str, name: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise SystemExit(f"metric {name} not found")


def profiled(run: Callable[[threading.Event], None], path: Path) -> Callable[..., None]:
    """``run`` under cProfile in its own thread; its stats go to ``path`` when it returns."""

    def target(stop: threading.Event) -> None:
        profiler = cProfile.Profile()
        try:
            profiler.runcall(run, stop)
        finally:
            profiler.dump_stats(path)

    return target


def print_profile(path: Path) -> None:
    stats = pstats.Stats(str(path))
    print(f"\nservice thread, by cumulative time (full stats: python -m pstats {path}):")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def report(
    raw: Figures, paths: dict[str, Figures], scaling: dict[int, Figures], *,
    restore: RestoreFigures | None, request_bytes: int, args: argparse.Namespace,
) -> str:  # fmt: skip
    def row(name: str, f: Figures) -> list[object]:
        return [name, f"{f.rate:,.0f}", f"{f.p50:.1f}", f"{f.p99:.1f}",
                f"{f.rate / raw.rate:.2f}x", f"{f.p50 / raw.p50:.2f}x"]  # fmt: skip

    def cpu(f: Figures, k: str) -> str:
        return f"{f.cpu_us[k]:.0f}" if k in f.cpu_us else "-"

    where = "threads of the driver process" if args.in_thread else "child processes"
    lines = [
        "ProcessMessage round trips: Clubhouse service vs a raw confluent-kafka echo",
        f"machine: {os.cpu_count()} cores, shared by the broker ({args.broker_name}), the "
        "registry, the service(s) or echo, and this driver",
        f"service and echo run as {where}; dev tuning (fetch.wait.max.ms=10); "
        f"{PARTITIONS} partitions; request value {request_bytes} bytes",
        f"latency: {args.requests} sequential round trips; throughput: best of {args.bursts} "
        f"bursts of {args.burst} pipelined requests; warm-up first",
        "",
        "One instance, one key (one partition):",
        table(["path", "commands/s", "p50 ms", "p99 ms", "rate / raw", "p50 / raw"],
              [row("raw echo (floor)", raw), *(row(n, f) for n, f in paths.items())]),
        "",
        "CPU microseconds per command during the bursts, by process:",
        table(["path", "echo/service", "broker", "driver"],
              [[n, cpu(f, "worker"), cpu(f, "broker"), cpu(f, "driver")]
               for n, f in {"raw echo (floor)": raw, **paths}.items()]),
    ]  # fmt: skip
    if scaling:
        one = scaling[min(scaling)]
        lines += [
            "",
            f"Exactly-once, {KEYS} keys over {PARTITIONS} partitions, 1..N instances "
            f"(one group):",
            table(["instances", "commands/s", "p50 ms", "p99 ms", "vs 1 instance",
                   "service CPU µs/command (all instances)"],
                  [[n, f"{f.rate:,.0f}", f"{f.p50:.1f}", f"{f.p99:.1f}",
                    f"{f.rate / one.rate:.2f}x", cpu(f, "worker")]
                   for n, f in sorted(scaling.items())]),
        ]  # fmt: skip
    if restore is not None:
        lines += [
            "",
            f"Restore: a fresh instance (empty --state-dir) rebuilding {restore.keys:,} keys "
            f"({restore.records:,} changelog records):",
            table(["what", "seconds"], [
                ["service restore (clubhouse_state_restore_seconds)", f"{restore.restore_s:.2f}"],
                ["start to /readyz ready (registration, group join, restore)",
                 f"{restore.ready_s:.2f}"],
                ["raw read_committed consumer, same records (floor)", f"{restore.raw_read_s:.2f}"],
                ["restore / raw read", f"{restore.restore_s / restore.raw_read_s:.2f}x"],
            ]),
        ]  # fmt: skip
    eos = paths.get("clubhouse exactly-once")
    if eos is not None and "worker" in eos.cpu_us:
        used = eos.cpu_us["worker"]
        lines += ["", f"target service CPU <= 120 µs/command at exactly-once: {used:.0f} µs "
                  f"{'met' if used <= 120 else 'MISSED'}"]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="sequential round trips")
    parser.add_argument("--burst", type=int, default=2000, help="requests per burst")
    parser.add_argument("--bursts", type=int, default=5, help="bursts; the best one counts")
    parser.add_argument("--warmup", type=int, default=50, help="sequential warm-up requests")
    parser.add_argument("--in-thread", action="store_true",
                        help="run the service and the echo in threads of this process")  # fmt: skip
    parser.add_argument("--broker", choices=BROKER_KINDS, default="tansu",
                        help="the broker both paths run on (kafka needs java and mvn)")  # fmt: skip
    parser.add_argument("--instances", type=int, nargs="*", default=[1, 2, 3],
                        help="instance counts for the scaling runs (none: skip them)")
    parser.add_argument("--restore-keys", type=int, default=10_000,
                        help="keys a fresh instance restores (0: skip)")
    parser.add_argument("--profile-service", type=Path, metavar="FILE",
                        help="profile the service, in a thread; stats to FILE")  # fmt: skip
    peers = parser.add_argument_group(
        "peers", "--peers: Clubhouse beside Kafka Streams and FastStream (only that comparison)"
    )
    peers.add_argument(
        "--peers", action="store_true", help="compare with Kafka Streams and FastStream, only"
    )
    peers.add_argument(
        "--peer-systems",
        nargs="+",
        metavar="NAME",
        help="only these: eos alo eos100 streams100 streams0 faststream",
    )
    peers.add_argument("--keys", type=int, default=100, help="keys the commands go round")
    peers.add_argument("--rounds", type=int, default=3, help="alternating rounds of all systems")
    peers.add_argument(
        "--peer-warmup",
        type=int,
        default=30_000,
        help="warm-up commands per system and round (the JVM needs ~30,000)",
    )
    peers.add_argument(
        "--peer-warmup-seconds",
        type=float,
        default=60.0,
        help="cap on a warm-up after its first answer (30,000 in 60 s needs 500/s)",
    )
    peers.add_argument(
        "--peer-burst",
        type=int,
        default=20_000,
        help="commands per burst (a slow system's shrink to ~5 s of work)",
    )
    peers.add_argument("--pace", type=float, default=500.0, help="commands/s of the latency run")
    peers.add_argument("--paced", type=int, default=3000, help="commands in each latency run")
    parser.add_argument("--echo-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_service:
        args.in_thread = True
    if args.echo_worker:
        echo_main(*args.echo_worker)
        return
    with (
        tempfile.TemporaryDirectory(prefix="clubhouse-bench-") as tmp,
        started(create_broker(args.broker, data_dir=Path(tmp))) as broker,
        RegistryServer(
            RegistryConfig(db_path=Path(tmp) / "registry.db", log_path=Path(tmp) / "registry.log")
        ) as registry,
    ):
        stack = Stack(
            Path(tmp),
            KafkaSettings(broker.bootstrap_servers, dev_tuning=True),
            registry.url,
            broker_pid(broker),
            args.in_thread,
        )
        args.broker_name = broker.component
        text = run_peers_comparison(stack, args) if args.peers else run_parts(stack, args)
    print(text)
    if args.profile_service:
        print_profile(args.profile_service)


def run_parts(stack: Stack, args: argparse.Namespace) -> str:
    """The four parts: the floor against Clubhouse, scaling, restore, the target check."""
    raw, request_bytes = run_raw(stack, prepared_serde(stack), args)
    paths = {
        "clubhouse exactly-once": run_clubhouse(stack, args, Run("eos")),
        "clubhouse at-least-once": run_clubhouse(stack, args, Run("alo", "at-least-once")),
        "clubhouse exactly-once, commit every 100 ms": run_clubhouse(
            stack, args, Run("eos100", commit_interval_ms=100)
        ),
    }
    scaling = {
        n: run_clubhouse(stack, args, Run(f"scale{n}", instances=n, keys=KEYS))
        for n in args.instances
    }
    restore = run_restore(stack, args.restore_keys) if args.restore_keys else None
    return report(raw, paths, scaling, restore=restore, request_bytes=request_bytes, args=args)


@contextmanager
def started(broker: Broker) -> Iterator[Broker]:
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def broker_pid(broker: Broker) -> int:
    if broker.process is None:
        raise SystemExit("the broker has no process after start()")
    return broker.process.pid


def prepared_serde(stack: Stack) -> MessageSerde:
    """A serde with the service's schema ids, so the raw path sends the same bytes.

    Registering first is what ``clubhouse register`` does in CI; the service then finds every
    schema already there, as a second deployment would.
    """
    catalog = agents_catalog()
    # Serializing needs only the ids that prepare() loads, so the registry can close after.
    with stack.registry() as registry:
        report = SchemaRegistrator(registry, catalog, "bench-clubhouse").register_all_schemas()
        if not report.ok:
            raise SystemExit(f"registration failed: {report.failed[0].error}")
        serde = MessageSerde(registry, catalog, "bench-clubhouse")
        serde.prepare()
    return serde


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the run quietly
    main()
