"""Builds and launches the Kafka Streams peer (``EchoStreams.java``) for the service benchmark.

On first use Maven resolves the pinned jars into the Clubhouse cache
(``clubhouse.devstack.maven``, as the Java Avro test oracle does) and ``javac`` compiles the
one source file beside them, under a hash of the source, the jars and the JDK, so later runs
start at once. ``java_command`` is the ``java`` command line up to the main class,
``streams_argv`` the whole one; the benchmark runs it as a child process, so its CPU and RSS
come from /proc like the service's. ``StreamsUnavailableError`` says what is missing (java,
javac, mvn, or a jar), for one line in place of the peer's rows.
"""

from __future__ import annotations

from pathlib import Path

from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.maven import (
    JavaCompileError,
    classpath,
    compiled_classes,
    default_cache_root,
    require_tool,
    resolve_jars,
)

KAFKA_STREAMS_VERSION = "4.1.1"
AVRO_VERSION = "1.12.1"  # the Java Avro oracle's
SLF4J_VERSION = "2.0.17"
ARTIFACTS = [
    f"org.apache.kafka:kafka-streams:{KAFKA_STREAMS_VERSION}",
    f"org.apache.avro:avro:{AVRO_VERSION}",
    # Kafka's own logging goes to stderr (the peer's log file), warnings only.
    f"org.slf4j:slf4j-api:{SLF4J_VERSION}",
    f"org.slf4j:slf4j-simple:{SLF4J_VERSION}",
]
SOURCE = Path(__file__).with_name("EchoStreams.java")
MAIN_CLASS = "EchoStreams"
READY_LINE = "echo-streams: RUNNING"  # printed by the app when Kafka Streams is RUNNING


class StreamsUnavailableError(Exception):
    """The Kafka Streams peer cannot be built here; the message says why."""


def java_command() -> list[str]:
    """``java`` and its arguments up to the main class; builds the peer first if need be."""
    try:
        java = require_tool("java", "the Kafka Streams peer")
        javac = require_tool("javac", "compiling the Kafka Streams peer")
        jars = resolve_jars(f"kafka-streams-peer-{KAFKA_STREAMS_VERSION}", ARTIFACTS)
    except DevStackError as exc:
        raise StreamsUnavailableError(str(exc)) from exc
    try:
        classes = compiled_classes(javac, SOURCE, jars, default_cache_root())
    except JavaCompileError as exc:
        raise StreamsUnavailableError(str(exc)) from exc
    # The JVM's defaults otherwise (heap, GC), as a Kafka Streams app starts unless tuned.
    return [java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", classpath([classes, *jars]), MAIN_CLASS]  # fmt: skip


def streams_argv(
    java: list[str], *, bootstrap: str, prefix: str, contract: Path, commit_interval_ms: int,
    state_dir: Path,
) -> list[str]:  # fmt: skip
    """The command that runs the peer on ``prefix``'s topics."""
    return [*java, bootstrap, prefix, str(contract), str(commit_interval_ms), str(state_dir)]


