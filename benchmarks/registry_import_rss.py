"""Peak memory of ``clubhouse registry import`` for a large backup (not a timed test).

Run: ``.venv/bin/python benchmarks/registry_import_rss.py [--mb 60] [--fields 400]
[--docs ascii|bmp|astral]``

It writes a backup of about ``--mb`` megabytes (Avro record schemas of ``--fields``
documented fields each; the docs are ASCII, ``bmp`` (accented letters and a check mark) or
``astral`` (an emoji, which makes Python hold a decoded text at 4 bytes a character), written
unescaped as ``export`` writes them), starts a registry on a temporary database through the
dev-stack supervisor, runs the import as a child process and prints that child's peak RSS
(``ru_maxrss`` of the waited child) beside the file's size and the peak of a bare
``python -c pass``. The backup is written by another child: a child's ``ru_maxrss`` starts
from its parent's resident size at fork, so the parent must stay small for the figure to be
the import's own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clubhouse.devstack import RegistryConfig, RegistryServer

VERSIONS_PER_SUBJECT = 3
DOCS = {
    "ascii": "field documentation",
    "bmp": "documentation du champ \u00e9t\u00e9 \u2713",
    "astral": "field documentation \U0001f980",
}


def _schema(n: int, doc: str, fields: int) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": f"R{n}",
            "fields": [
                {"name": f"f{i}", "type": ["null", "string"], "default": None, "doc": f"{doc} {i}"}
                for i in range(fields)
            ],
        },
        ensure_ascii=False,
    )


def write_backup(path: Path, megabytes: int, *, docs: str, fields: int) -> int:
    """Write a backup of about ``megabytes`` MB to ``path``; returns its number of versions."""
    doc = DOCS[docs]
    count = max(megabytes * 1_000_000 // len(_schema(0, doc, fields).encode()), 1)
    subjects: list[dict[str, object]] = []
    versions: list[dict[str, object]] = []
    for n in range(count):
        if n % VERSIONS_PER_SUBJECT == 0:
            versions = []
            subjects.append({"name": f"s{n}", "compatibility": "NONE", "mode": None,
                             "versions": versions})  # fmt: skip
        versions.append(
            {
                "version": len(versions) + 1,
                "id": n + 1,
                "schemaType": "AVRO",
                "schema": _schema(n, doc, fields),
                "references": [],
                "deleted": False,
            }
        )
    document = {
        "format": "clubhouse-registry-backup",
        "format_version": 1,
        "global": {"compatibility": "BACKWARD", "mode": "READWRITE"},
        "subjects": subjects,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return count


def _peak_rss_kb(command: list[str]) -> tuple[int, int, str]:
    """Peak RSS (KiB), exit code and stderr of ``command``, run to completion."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss, os.waitstatus_to_exitcode(status), stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=60)
    parser.add_argument("--fields", type=int, default=400, help="fields per schema")
    parser.add_argument("--docs", choices=sorted(DOCS), default="bmp")
    parser.add_argument("--write-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        print(write_backup(args.write_only, args.mb, docs=args.docs, fields=args.fields))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        backup = work / "backup.json"
        writer = [sys.executable, __file__, "--mb", str(args.mb), "--fields", str(args.fields),
                  "--docs", args.docs, "--write-only", str(backup)]  # fmt: skip
        versions = int(subprocess.run(writer, check=True, capture_output=True).stdout)
        size = backup.stat().st_size
        server = RegistryServer(
            RegistryConfig(db_path=work / "registry.db", log_path=work / "registry.log")
        )
        server.start()
        try:
            floor_kb, _, _ = _peak_rss_kb([sys.executable, "-c", "pass"])
            peak_kb, code, stderr = _peak_rss_kb(
                [sys.executable, "-m", "clubhouse.cli.main", "registry", "import",
                 "--url", server.url, "--input", str(backup)]
            )  # fmt: skip
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "backup_mb": round(size / 1e6, 1),
                "versions": versions,
                "docs": args.docs,
                "exit_code": code,
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "bare_python_peak_rss_mb": round(floor_kb / 1024, 1),
                "peak_rss_over_backup_size": round(peak_kb * 1024 / size, 2),
            }
        )
    )
    if code != 0:
        print(stderr, file=sys.stderr)


if __name__ == "__main__":
    main()
