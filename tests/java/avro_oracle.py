"""A client for ``AvroOracle.java``: Java Avro in one long-lived JVM, spoken to in JSON lines.

``AvroOracle.batch`` sends many requests as one line and reads one line back, so a corpus of
hundreds of cases costs one round trip; ``compatibilities``, ``decodes`` and ``encodes`` are
its typed forms, answering each case with its result or the ``OracleError`` Java raised.

``start_oracle`` resolves the pinned Java Avro jars (``clubhouse.devstack.maven``), compiles
the helper with ``javac`` (once per source and JDK: ``maven.compiled_classes`` keeps the classes in
the Clubhouse cache) and starts it; ``OracleUnavailableError`` says what is missing.
``oracle_or_skip`` turns that into one skip reason, or a failure under
``CLUBHOUSE_REQUIRE_KAFKA=1`` (CI), where a missing JDK must not pass unnoticed.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.maven import (
    JavaCompileError,
    classpath,
    compiled_classes,
    default_cache_root,
    require_tool,
    resolve_jars,
)

# The one place the Java Avro version is pinned.
AVRO_JAVA_VERSION = "1.12.1"
SOURCE = Path(__file__).with_name("AvroOracle.java")

T = TypeVar("T")


class OracleUnavailableError(Exception):
    """Java, javac, Maven or the jars are missing, so the oracle cannot start."""


class OracleError(Exception):
    """The oracle answered a request with an error (bad schema, unreadable bytes)."""


Compatibility = tuple[bool, list[dict[str, str]]]
Decoded = tuple[str, bytes]


class AvroOracle:
    """One running ``AvroOracle`` JVM; a method call is one round trip to it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def _exchange(self, fields: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(fields) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise OracleError(f"the oracle exited (code {self._process.poll()}) on {fields['op']}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def request(self, **fields: Any) -> dict[str, Any]:
        """One request; its answer, or ``OracleError`` with Java's message."""
        return _unwrap(self._exchange(fields))

    def batch(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any] | OracleError]:
        """Many requests in one round trip: each one's answer or error, in order."""
        answers = self.request(op="batch", requests=list(requests))["answers"]
        if len(answers) != len(requests):
            raise OracleError(f"{len(requests)} requests in the batch, {len(answers)} answers")
        results: list[dict[str, Any] | OracleError] = []
        for answer in answers:
            try:
                results.append(_unwrap(answer))
            except OracleError as exc:
                results.append(exc)
        return results

    def compatibilities(
        self, pairs: Sequence[tuple[str, str]]
    ) -> list[Compatibility | OracleError]:
        """``compatibility`` of every ``(reader, writer)`` pair, in one round trip."""
        requests = [{"op": "compat", "reader": r, "writer": w} for r, w in pairs]
        return [_error_or(answer, _compatibility) for answer in self.batch(requests)]

    def decodes(
        self, cases: Sequence[tuple[str, bytes, str | None]]
    ) -> list[Decoded | OracleError]:
        """``decode`` of every ``(writer, data, reader)``, in one round trip."""
        requests = [_decode_request(w, data, r) for w, data, r in cases]
        return [_error_or(answer, _decoded) for answer in self.batch(requests)]

    def encodes(self, cases: Sequence[tuple[str, str]]) -> list[bytes | OracleError]:
        """``encode`` of every ``(schema, avro_json)``, in one round trip."""
        requests = [{"op": "encode", "schema": s, "json": j} for s, j in cases]
        return [_error_or(answer, _encoded) for answer in self.batch(requests)]

    def compatibility(self, reader: str, writer: str) -> Compatibility:
        """Whether Java lets ``reader`` read ``writer``'s data, and Java's reasons if not."""
        return _compatibility(self.request(op="compat", reader=reader, writer=writer))

    def decode(self, writer: str, data: bytes, reader: str | None = None) -> Decoded:
        """``data`` read with ``writer`` (resolved to ``reader``): its Avro JSON and binary."""
        return _decoded(self.request(**_decode_request(writer, data, reader)))

    def encode(self, schema: str, avro_json: str) -> bytes:
        """The Avro binary of the datum given in Avro's JSON encoding."""
        return _encoded(self.request(op="encode", schema=schema, json=avro_json))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _unwrap(answer: dict[str, Any]) -> dict[str, Any]:
    if not answer.pop("ok"):
        raise OracleError(answer["error"])
    return answer


def _error_or(
    answer: dict[str, Any] | OracleError, read: Callable[[dict[str, Any]], T]
) -> T | OracleError:
    return answer if isinstance(answer, OracleError) else read(answer)


def _compatibility(answer: dict[str, Any]) -> Compatibility:
    return bool(answer["compatible"]), list(answer["incompatibilities"])


def _decode_request(writer: str, data: bytes, reader: str | None) -> dict[str, Any]:
    return {"op": "decode", "writer": writer, "reader": reader,
            "data": base64.b64encode(data).decode()}  # fmt: skip


def _decoded(answer: dict[str, Any]) -> Decoded:
    return str(answer["json"]), base64.b64decode(answer["data"])


def _encoded(answer: dict[str, Any]) -> bytes:
    return base64.b64decode(answer["data"])


def avro_jars() -> list[Path]:
    """The pinned Java Avro jar and its dependencies, resolved by Maven once and cached."""
    return resolve_jars(f"avro-{AVRO_JAVA_VERSION}", [f"org.apache.avro:avro:{AVRO_JAVA_VERSION}"])


def start_oracle(classes_root: Path | None = None) -> AvroOracle:
    """Compile ``AvroOracle.java`` (once, into ``classes_root``) and start it.

    ``classes_root`` defaults to the Clubhouse cache (``~/.cache/clubhouse``), beside the jars.
    """
    try:
        javac = require_tool("javac", "compiling the Java Avro test oracle")
        java = require_tool("java", "running the Java Avro test oracle")
        jars = avro_jars()
    except DevStackError as exc:
        raise OracleUnavailableError(str(exc)) from exc
    try:
        classes = compiled_classes(javac, SOURCE, jars, classes_root or default_cache_root())
    except JavaCompileError as exc:
        raise OracleError(str(exc)) from exc
    # C1 only: the oracle lives for one session of short batches, where the optimizing
    # compiler's work costs more CPU than it saves.
    process = subprocess.Popen(
        [java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classpath([classes, *jars]),
         "AvroOracle"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, encoding="utf-8",
    )  # fmt: skip
    return AvroOracle(process)


def oracle_or_skip(env: Mapping[str, str], classes_root: Path | None = None) -> AvroOracle:
    """``start_oracle``, or skip the test (fail it when ``env`` requires Java)."""
    try:
        return start_oracle(classes_root)
    except OracleUnavailableError as exc:
        reason = f"Java Avro oracle unavailable: {exc}"
        if env.get("CLUBHOUSE_REQUIRE_KAFKA") == "1":
            pytest.fail(f"{reason} (CLUBHOUSE_REQUIRE_KAFKA=1 requires it)", pytrace=False)
        pytest.skip(reason)
