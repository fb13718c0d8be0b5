#!/usr/bin/env python
"""Run Clubhouse: ``python scripts/run_clubhouse.py --help``. A thin wrapper over ``clubhouse run``.

Examples:
  python scripts/run_clubhouse.py                      # embedded dev stack, no infrastructure
  python scripts/run_clubhouse.py --bootstrap-servers localhost:9092 \\
      --schema-registry-url http://localhost:8081
  python scripts/run_clubhouse.py --register-schemas-only --schema-registry-url http://sr:8081
"""

from __future__ import annotations

from clubhouse.cli.run_cmd import run

if __name__ == "__main__":
    run(prog_name="run_clubhouse.py")
