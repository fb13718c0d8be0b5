"""Resolves Java artifacts from Maven Central into a local cache, for Java test and dev tools.

Apache Kafka and Java Avro are not on PyPI; their jars are on Maven Central. A generated
one-dependency-per-artifact ``pom.xml`` lets Maven itself resolve the transitive closure,
so nothing here re-implements dependency resolution. The jars land in
``{cache_root}/{name}/lib`` and a marker file records which artifacts they are, so a warm
start asks no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from clubhouse.devstack.errors import DevStackError

CACHE_ENV = "CLUBHOUSE_CACHE_DIR"
_MARKER = ".resolved"


class JavaToolMissingError(DevStackError):
    """``java``, ``javac`` or ``mvn`` is not on PATH."""

    def __init__(self, tool: str, purpose: str) -> None:
        self.tool = tool
        super().__init__(
            f"{tool} was not found on PATH; it is needed for {purpose}. Install a JDK 17+ "
            "and Maven (Debian: `apt-get install openjdk-17-jdk-headless maven`)"
        )


class MavenResolutionError(DevStackError):
    """Maven ran but could not resolve the artifacts."""

    def __init__(self, artifacts: Sequence[str], returncode: int, tail: Sequence[str]) -> None:
        self.artifacts = tuple(artifacts)
        self.returncode = returncode
        shown = "\n  ".join(tail) if tail else "(no output)"
        super().__init__(
            f"Maven could not resolve {', '.join(artifacts)} (exit {returncode}); check that "
            f"Maven Central is reachable and the versions exist. Maven's last lines:\n  {shown}"
        )


@dataclass(frozen=True, slots=True)
class Artifact:
    """A Maven coordinate ``group:artifact:version``."""

    group: str
    artifact: str
    version: str

    @classmethod
    def parse(cls, coordinate: str) -> Artifact:
        """``"org.apache.avro:avro:1.12.0"`` -> Artifact; anything else is a ValueError."""
        parts = coordinate.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a group:artifact:version coordinate: {coordinate!r}")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"


def default_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """``$CLUBHOUSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/clubhouse``, else ``~/.cache/clubhouse``."""
    environ = os.environ if env is None else env
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clubhouse"


def require_tool(tool: str, purpose: str) -> str:
    """The path of ``tool`` on PATH, or JavaToolMissingError naming it and ``purpose``."""
    found = shutil.which(tool)
    if found is None:
        raise JavaToolMissingError(tool, purpose)
    return found


def resolve_jars(
    name: str,
    artifacts: Sequence[str],
    *,
    cache_root: Path | None = None,
    timeout_s: float = 900.0,
) -> list[Path]:
    """The jars of ``artifacts`` and all their runtime dependencies, resolved once and cached.

    ``name`` names the cache folder (``kafka-4.1.0``, say). A folder whose marker matches
    the requested artifacts is reused as is; otherwise Maven fills it afresh.
    """
    coordinates = [Artifact.parse(a) for a in artifacts]
    root = (cache_root or default_cache_root()) / name
    lib = root / "lib"
    fingerprint = hashlib.sha256("\n".join(map(str, coordinates)).encode()).hexdigest()
    marker = root / _MARKER
    if marker.is_file() and marker.read_text().strip() == fingerprint:
        return sorted(lib.glob("*.jar"))
    mvn = require_tool("mvn", f"resolving {', '.join(artifacts)} from Maven Central")
    require_tool("java", "running Maven")
    staging = root / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "pom.xml").write_text(_pom(coordinates))
    command = [
        mvn, "-B", "-q", "-f", str(staging / "pom.xml"), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging / 'lib'}",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MavenResolutionError(artifacts, -1, [f"timed out after {timeout_s:g} s"]) from exc
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        raise MavenResolutionError(artifacts, done.returncode, lines[-15:])
    # Swap the finished folder in whole, so an interrupted resolve never looks complete.
    shutil.rmtree(lib, ignore_errors=True)
    (staging / "lib").rename(lib)
    shutil.rmtree(staging, ignore_errors=True)
    marker.write_text(fingerprint + "\n")
    return sorted(lib.glob("*.jar"))


def classpath(jars: Sequence[Path]) -> str:
    """``jars`` joined for ``java -cp``."""
    return os.pathsep.join(str(j) for j in jars)


class JavaCompileError(DevStackError):
    """javac refused a source file."""


def compiled_classes(javac: str, source: Path, jars: Sequence[Path], root: Path) -> Path:
    """The folder under ``root`` holding ``source`` compiled by ``javac`` against ``jars``.

    javac takes seconds, every session, for a source that rarely changes; so the classes are
    kept under a hash of the source, the jars and the JDK's javac, and any change compiles
    afresh. They are compiled beside and renamed into place, so a folder is whole or absent.
    """
    inputs = "\0".join([source.read_text(), classpath(jars), os.path.realpath(javac)])
    stem = source.stem.lower()
    target = root / f"{stem}-{hashlib.sha256(inputs.encode()).hexdigest()[:16]}"
    if (target / f"{source.stem}.class").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=root))
    compiled = subprocess.run(
        [javac, "-d", str(staging), "-cp", classpath(jars), str(source)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if compiled.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise JavaCompileError(f"javac failed on {source.name}:\n{compiled.stderr}")
    try:
        staging.rename(target)
    except OSError:  # another process compiled the same classes first: theirs will do
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _pom(artifacts: Sequence[Artifact]) -> str:
    dependencies = "".join(
        "<dependency>"
        f"<groupId>{escape(a.group)}</groupId><artifactId>{escape(a.artifact)}</artifactId>"
        f"<version>{escape(a.version)}</version>"
        "</dependency>"
        for a in artifacts
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">'
        "<modelVersion>4.0.0</modelVersion>"
        "<groupId>clubhouse.devstack</groupId><artifactId>resolve</artifactId>"
        "<version>0</version><packaging>pom</packaging>"
        f"<dependencies>{dependencies}</dependencies>"
        "</project>"
    )
