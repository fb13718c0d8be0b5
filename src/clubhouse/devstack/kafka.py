"""An Apache Kafka KRaft cluster from Maven Central's jars: one or more combined nodes.

Each node is broker and controller at once, listens on two loopback ports and keeps its
log under ``data_dir/node-<id>``. The jars are resolved once into the user's cache
(``clubhouse.devstack.maven``); ``KAFKA_VERSION`` is the one place the version is pinned.
A cluster object formats fresh storage at its first start, so every ``clubhouse dev`` run
begins empty, as with Tansu, unless ``keep_data`` reuses what a cluster of the same size left;
a later ``start`` after ``stop`` (a restart) keeps the data, as a real cluster does.
"""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clubhouse.devstack.errors import DevStackError, ProcessExitedError, ReadinessTimeoutError
from clubhouse.devstack.kafka_config import node_properties
from clubhouse.devstack.kafka_ready import broker_ids, producer_id_assigned
from clubhouse.devstack.launch import LoopbackServer, Readiness
from clubhouse.devstack.maven import classpath, default_cache_root, require_tool, resolve_jars
from clubhouse.devstack.ports import accepts_connections, pick_free_port
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.supervisor import Member

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.1"  # runs on Java 17; 4.x brokers need 17+
LOG4J_VERSION = "2.24.3"  # the log4j 2 that Kafka 4.1 itself ships with
KAFKA_ARTIFACTS = (
    f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
    # Kafka logs through slf4j 1.x; without a binding it logs nothing at all.
    f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J_VERSION}",
    f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}",
)
COMPONENT = f"Kafka broker (Apache Kafka {KAFKA_VERSION})"
# Small heaps and the serial collector: several JVMs share a 2-core dev machine.
DEFAULT_JVM_OPTIONS = ("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-Djava.awt.headless=true")

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = {level}
logger.apache.name = org.apache.kafka
logger.apache.level = {level}
"""

JarResolver = Callable[[str, Sequence[str]], list[Path]]


def resolve_kafka_jars(name: str, artifacts: Sequence[str]) -> list[Path]:
    """The default JarResolver: Maven Central through the user's cache."""
    return resolve_jars(name, artifacts)


def new_cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid).

    Never one that starts with "-", which command-line parsers take for an option.
    """
    while True:
        text = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    """How to run the cluster; ports are picked free at the first start unless given."""

    data_dir: Path
    log_dir: Path
    nodes: int = 1
    host: str = "127.0.0.1"
    broker_ports: Sequence[int] | None = None  # one per node
    jvm_options: Sequence[str] = DEFAULT_JVM_OPTIONS
    java: str | None = None  # default: `java` on PATH
    startup_timeout: float = 90.0
    stop_timeout: float = 20.0  # controlled shutdown moves leadership away first
    overrides: dict[str, str] = field(default_factory=dict)  # extra server.properties
    keep_data: bool = False  # reuse the storage a former cluster left in data_dir, if whole


@dataclass(frozen=True, slots=True)
class KafkaNodeConfig:
    """One node of the cluster, with both its ports fixed by the cluster."""

    node_id: int
    host: str
    port: int
    controller_port: int
    properties_path: Path
    log_path: Path
    startup_timeout: float
    stop_timeout: float


class KafkaNode(LoopbackServer[KafkaNodeConfig]):
    """One ``kafka.Kafka`` JVM. Ready here means its controller port accepts connections;
    the broker side waits for the quorum, so the cluster checks that part for all at once."""

    component = COMPONENT

    def __init__(self, config: KafkaNodeConfig, argv: Sequence[str]) -> None:
        super().__init__(config)
        self._argv = tuple(argv)

    @property
    def node_id(self) -> int:
        """The node's id in the cluster, from 1."""
        return self.config.node_id

    def start(self) -> None:
        """Launch the node's process."""
        self._launch(self._spec)

    def _readiness(self, port: int) -> Readiness:
        host, controller = self.config.host, self.config.controller_port
        return Readiness(
            lambda: accepts_connections(host, controller), f"TCP connect to {host}:{controller}"
        )

    def _spec(self, port: int) -> ProcessSpec:
        return ProcessSpec(
            f"{COMPONENT} node {self.node_id}",
            (*self._argv, str(self.config.properties_path)),
            self.config.log_path,
        )


class KafkaCluster:
    """N combined Kafka nodes; ``bootstrap_servers`` is valid once ``start`` has returned."""

    component = COMPONENT

    def __init__(self, config: KafkaConfig, *, resolver: JarResolver = resolve_kafka_jars) -> None:
        if config.nodes < 1:
            raise DevStackError(f"a Kafka cluster needs at least 1 node, not {config.nodes}")
        if config.broker_ports is not None and len(config.broker_ports) != config.nodes:
            raise DevStackError(
                f"{len(config.broker_ports)} broker ports given for {config.nodes} Kafka nodes"
            )
        self.config = config
        self._resolver = resolver
        self._nodes: list[KafkaNode] = []
        self.startup_seconds: float | None = None

    @property
    def nodes(self) -> list[KafkaNode]:
        """The started nodes, a copy."""
        return list(self._nodes)

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` of every node, comma-separated; an error before the cluster is started."""
        if not self._nodes:
            raise DevStackError(f"the {COMPONENT} has no address before it is started")
        return ",".join(f"{self.config.host}:{n.port}" for n in self._nodes)

    @property
    def process(self) -> ManagedProcess | None:
        """The first node's process (what a single-broker caller looks at)."""
        return self._nodes[0].process if self._nodes else None

    def processes(self) -> list[ManagedProcess]:
        """The processes of the nodes that have one."""
        return [n.process for n in self._nodes if n.process is not None]

    def members(self) -> list[Member]:
        """The started nodes as supervised members.

        In a cluster of several, a node that dies is restarted (same node id, ports and log
        dir) while the others carry on, as a failover needs; a single node is essential.
        """
        several = len(self._nodes) > 1
        return [n.member(restartable=several) for n in self._nodes if n.process is not None]

    def node(self, node_id: int) -> KafkaNode:
        """The node with id ``node_id``; an error if there is none."""
        for candidate in self._nodes:
            if candidate.node_id == node_id:
                return candidate
        raise DevStackError(f"no Kafka node {node_id}; the nodes are 1..{len(self._nodes)}")

    def start(self) -> None:
        """Start every node and wait until the metadata lists all of them.

        The first start resolves the jars (once per machine), picks ports and formats fresh
        storage; a start after ``stop`` reuses all three, so the data survives.
        """
        began = time.monotonic()
        if not self._nodes:
            self._nodes = self._prepare()
        try:
            for node in self._nodes:
                node.start()
            self.wait_for_brokers(len(self._nodes), self.config.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        log.info(
            "Kafka cluster ready",
            extra={
                "component": COMPONENT,
                "nodes": len(self._nodes),
                "bootstrap_servers": self.bootstrap_servers,
                "seconds": round(self.startup_seconds, 2),
            },
        )

    def stop(self) -> int | None:
        """Stop every node at once (SIGTERM, SIGKILL after ``stop_timeout``); the first's code."""
        running = [n for n in self._nodes if n.process is not None]
        codes: dict[int, int | None] = {}

        def stop_one(node: KafkaNode) -> None:
            codes[node.node_id] = node.stop()

        # In parallel: a node whose peers are gone waits for a quorum that never comes.
        threads = [threading.Thread(target=stop_one, args=(n,)) for n in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return codes.get(running[0].node_id) if running else None

    def restart(self) -> None:
        """Stop and start again on the same ports, with the data kept."""
        self.stop()
        self.start()

    def __enter__(self) -> KafkaCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_brokers(self, count: int, timeout: float) -> None:
        """Until the metadata lists ``count`` brokers and each node hands out producer ids.

        A node that exits meanwhile is a ProcessExitedError (see ``kafka_ready``).
        """
        deadline = time.monotonic() + timeout
        while len(broker_ids(self.bootstrap_servers)) < count:
            for node in self._nodes:
                if node.process is not None and node.process.started:
                    node.process.check_alive()
            if time.monotonic() >= deadline:
                first = self._nodes[0].process
                raise ReadinessTimeoutError(
                    COMPONENT,
                    timeout,
                    f"metadata from {self.bootstrap_servers} lists {count} brokers",
                    first.output_tail() if first is not None else [],
                    str(self._nodes[0].config.log_path),
                )
            time.sleep(0.2)
        for node in self._nodes:
            address = f"{self.config.host}:{node.port}"
            if not producer_id_assigned(address, max(1.0, deadline - time.monotonic())):
                raise ReadinessTimeoutError(
                    COMPONENT,
                    timeout,
                    f"an idempotent producer at {address} gets a producer id",
                    node.process.output_tail() if node.process is not None else [],
                    str(node.config.log_path),
                )

    # -- preparing the nodes --------------------------------------------------------------

    def _prepare(self) -> list[KafkaNode]:
        cfg = self.config
        java = cfg.java or require_tool("java", f"running the {COMPONENT}")
        jars = self._resolver(f"kafka-{KAFKA_VERSION}", KAFKA_ARTIFACTS)
        keep = cfg.keep_data and formatted_storage(cfg.data_dir, cfg.nodes)
        if cfg.keep_data and not keep:
            log.warning(
                "no Kafka data of a cluster this size to keep; starting empty",
                extra={"component": COMPONENT, "data_dir": str(cfg.data_dir), "nodes": cfg.nodes},
            )
        if not keep:
            shutil.rmtree(cfg.data_dir, ignore_errors=True)
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        cfg.log_dir.mkdir(parents=True, exist_ok=True)
        broker_ports, controller_ports = self._ports()
        voters = ",".join(
            f"{i}@{cfg.host}:{port}" for i, port in enumerate(controller_ports, start=1)
        )
        log4j = cfg.data_dir / "log4j2.properties"
        log4j.write_text(_LOG4J2.format(level="INFO"))
        quiet = cfg.data_dir / "log4j2-format.properties"
        quiet.write_text(_LOG4J2.format(level="WARN"))
        java_argv = [java, *cfg.jvm_options, "-cp", classpath(jars)]
        nodes: list[KafkaNode] = []
        for node_id in range(1, cfg.nodes + 1):
            props = node_properties(
                node_id=node_id,
                host=cfg.host,
                broker_port=broker_ports[node_id - 1],
                controller_port=controller_ports[node_id - 1],
                voters=voters,
                log_dir=cfg.data_dir / f"node-{node_id}",
                cluster_size=cfg.nodes,
                overrides=cfg.overrides,
            )
            path = cfg.data_dir / f"node-{node_id}.properties"
            path.write_text(props)
            node_config = KafkaNodeConfig(
                node_id=node_id,
                host=cfg.host,
                port=broker_ports[node_id - 1],
                controller_port=controller_ports[node_id - 1],
                properties_path=path,
                log_path=cfg.log_dir / f"kafka-{node_id}.log",
                startup_timeout=cfg.startup_timeout,
                stop_timeout=cfg.stop_timeout,
            )
            argv = [*java_argv, f"-Dlog4j2.configurationFile={log4j}", "kafka.Kafka"]
            nodes.append(KafkaNode(node_config, argv))
        if keep:
            # Node ids and log dirs are what the storage knows; the ports may be new.
            log.info("Kafka data of the last run kept", extra={"data_dir": str(cfg.data_dir)})
        else:
            self._format([*java_argv, f"-Dlog4j2.configurationFile={quiet}"], nodes)
        return nodes

    def _ports(self) -> tuple[list[int], list[int]]:
        host = self.config.host
        wanted = self.config.nodes
        taken = set(self.config.broker_ports or ())
        controllers: list[int] = []
        while len(controllers) < wanted:
            port = pick_free_port(host)
            if port not in taken:
                taken.add(port)
                controllers.append(port)
        if self.config.broker_ports is not None:
            return list(self.config.broker_ports), controllers
        brokers: list[int] = []
        while len(brokers) < wanted:
            port = pick_free_port(host)
            if port not in taken:
                taken.add(port)
                brokers.append(port)
        return brokers, controllers

    def _format(self, java_argv: Sequence[str], nodes: Sequence[KafkaNode]) -> None:
        """``kafka-storage format`` for every node, in parallel, with one cluster id."""
        cluster_id = new_cluster_id()
        running = [
            (
                node,
                subprocess.Popen(
                    [*java_argv, "kafka.tools.StorageTool", "format", "--cluster-id",
                     cluster_id, "--config", str(node.config.properties_path)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                ),
            )
            for node in nodes
        ]  # fmt: skip
        failures: list[ProcessExitedError] = []
        for node, proc in running:
            output, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                tail = [line for line in output.splitlines() if line.strip()][-15:]
                failures.append(
                    ProcessExitedError(
                        f"Kafka storage format for node {node.node_id}",
                        proc.returncode,
                        tail,
                        str(node.config.properties_path),
                    )
                )
        if failures:
            raise failures[0]
        log.info(
            "Kafka storage formatted",
            extra={"component": COMPONENT, "cluster_id": cluster_id, "nodes": len(nodes)},
        )


def formatted_storage(data_dir: Path, nodes: int) -> bool:
    """Whether ``data_dir`` holds the formatted storage of exactly ``nodes`` nodes."""
    formatted = {p.parent.name for p in data_dir.glob("node-*/meta.properties")}
    return formatted == {f"node-{i}" for i in range(1, nodes + 1)}


def kafka_available() -> str | None:
    """None when java and mvn are on PATH (or the jars are cached), else what is missing."""
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None and not (tool == "mvn" and _jars_cached()):
            return tool
    return None


def _jars_cached() -> bool:
    return (default_cache_root() / f"kafka-{KAFKA_VERSION}" / ".resolved").is_file()


__all__ = [
    "COMPONENT",
    "KAFKA_ARTIFACTS",
    "KAFKA_VERSION",
    "KafkaCluster",
    "KafkaConfig",
    "KafkaNode",
    "kafka_available",
    "new_cluster_id",
]
