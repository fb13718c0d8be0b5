"""A client process for the concurrency test: N concurrent registrations, results as JSON.

Run as a script: ``python register_worker.py URL[,URL...] WORKER_INDEX COUNT``. Each
registration picks schema ``(WORKER_INDEX * 7 + k) % SCHEMAS`` so workers overlap, and goes
to server ``k % len(URLS)``. Prints one JSON list of [schema_index, subject, status, id].
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

SCHEMAS = 30
SUBJECTS = 6


def schema(index: int) -> str:
    return json.dumps(
        {"type": "record", "name": f"Conc{index}", "fields": [{"name": "f", "type": "long"}]}
    )


def main() -> None:
    urls = sys.argv[1].split(",")
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    clients = [
        httpx.Client(base_url=url, timeout=60.0, limits=httpx.Limits(max_connections=count))
        for url in urls
    ]

    def register(k: int) -> list[object]:
        index = (worker * 7 + k) % SCHEMAS
        subject = f"conc-{index % SUBJECTS}"
        try:
            response = clients[k % len(clients)].post(
                f"/subjects/{subject}/versions", json={"schema": schema(index)}
            )
        except httpx.HTTPError as exc:
            return [index, subject, f"transport error: {exc!r}", None]
        body = response.json()
        return [index, subject, response.status_code, body.get("id")]

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(register, range(count)))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
