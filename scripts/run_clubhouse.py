#!/usr/bin/env python
"""Run Clubhouse: ``python scripts/run_clubhouse.py --help``. A thin wrapper over ``clubhouse run``.

Unlike ``clubhouse run``, with no broker and no registry configured it starts the embedded
dev stack. With only a registry, the broker is KAFKA_BOOTSTRAP_SERVERS or localhost:9092.

Examples:
  python scripts/run_clubhouse.py                      # embedded dev stack, no infrastructure
  python scripts/run_clubhouse.py --bootstrap-servers localhost:9092 \\
      --schema-registry-url http://localhost:8081
  python scripts/run_clubhouse.py --schema-registry-url http://localhost:8081 \\
      --register-schemas-only
  export SCHEMA_REGISTRY_URL=http://localhost:8081; python scripts/run_clubhouse.py
"""

from __future__ import annotations

from clubhouse.cli.run_cmd import RunMode, run

if __name__ == "__main__":
    run(prog_name="run_clubhouse.py", obj=RunMode(embedded_when_unconfigured=True))
