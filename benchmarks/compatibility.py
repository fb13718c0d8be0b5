"""Compatibility checks on wide records: ``clubhouse.avro.compatibility`` against stock ``avro``.

Run: ``.venv/bin/python benchmarks/compatibility.py [--widths 1000,10000,20000]
[--case compatible|incompatible|both] [--json]``

For each width it builds two records of that many ``long`` fields and times one reader/writer
check with ``check_pair`` (what the registry and ``clubhouse schemas`` run) and, in the same
run, with the stock ``avro.compatibility.ReaderWriterCompatibilityChecker``. ``compatible``
checks a record against itself; ``incompatible`` a reader whose fields are all new and have no
default, so every field is a problem. The ratio is stock seconds over ours. Parsing a schema
with ``avro.schema.parse`` is shown apart: it is not part of the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import avro.compatibility
import avro.schema

from benchmarks._report import best_seconds, table
from clubhouse.avro.compatibility import check_pair


def wide(prefix: str, width: int) -> str:
    fields = [{"name": f"{prefix}{i}", "type": "long"} for i in range(width)]
    return json.dumps({"type": "record", "name": "Wide", "fields": fields})


def stock_check(reader: avro.schema.Schema, writer: avro.schema.Schema) -> bool:
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()
    result = checker.get_compatibility(reader, writer)
    return result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible


def measure(width: int, case: str) -> dict[str, Any]:
    writer_text = wide("f", width)
    reader_text = writer_text if case == "compatible" else wide("g", width)
    parse_s = best_seconds(lambda: avro.schema.parse(writer_text), 1)
    reader, writer = avro.schema.parse(reader_text), avro.schema.parse(writer_text)
    ours_ok = not check_pair(reader, writer)
    stock_ok = stock_check(reader, writer)
    if ours_ok is not stock_ok or ours_ok is not (case == "compatible"):
        raise SystemExit(f"verdicts differ at {width} fields ({case}): {ours_ok} {stock_ok}")
    ours_s = best_seconds(lambda: check_pair(reader, writer), 3)
    # The stock checker is quadratic: one timed run is all a wide record can afford.
    stock_s = best_seconds(lambda: stock_check(reader, writer), 3 if width <= 2000 else 1)
    return {"fields": width, "case": case, "parse_s": parse_s, "ours_s": ours_s,
            "stock_s": stock_s, "ratio": stock_s / ours_s}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", default="1000,10000,20000", help="comma-separated")
    parser.add_argument("--case", choices=["compatible", "incompatible", "both"],
                        default="compatible")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    cases = ["compatible", "incompatible"] if args.case == "both" else [args.case]
    widths = [int(w) for w in args.widths.split(",")]
    rows = []
    for case in cases:
        for width in widths:
            row = measure(width, case)
            if args.json:
                print(json.dumps(row), flush=True)
            rows.append(row)
    if not args.json:
        print(table(
            ["fields", "case", "parse (s)", "ours (s)", "stock avro (s)", "stock / ours"],
            [[r["fields"], r["case"], f"{r['parse_s']:.3f}", f"{r['ours_s']:.4f}",
              f"{r['stock_s']:.2f}", f"{r['ratio']:.0f}x"] for r in rows],
        ))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
