"""The shop example's two apps on a real broker and registry: orders sends inventory
``ReserveStock`` with ``ctx.send``, and follows inventory's events; both run two instances,
and one instance of each is killed -9 in the middle of the stream.

Every order ends accepted or rejected exactly once, stock never goes below zero, and each
item's final stock is its first stock less what the accepted orders took.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from clubhouse.application import App
from clubhouse.client import ClubhouseClient
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.state_codec import AvroStateCodec
from clubhouse.runtime.changelog import changelog_topic
from clubhouse.runtime.state_query import StateQuery
from clubhouse.services.kafka import KafkaConsumer, KafkaSettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from shop import inventory, orders
from shop.messages import OrderAccepted, OrderRejected, PlaceOrder, Restock, StockLevel
from tests.integration.scaleout.harness import Fleet

pytestmark = pytest.mark.integration

SHOP = str(Path(__file__).resolve().parents[3] / "examples" / "shop")
ITEMS = 20
FIRST_STOCK = 25
ORDERS = 200
SETTLE_TIMEOUT_S = 180.0


def _settlements(client: ClubhouseClient, order_ids: set[str]) -> dict[str, set[tuple[str, str]]]:
    """Per order, the distinct (kind, message id) of the events that settled it, read until
    every order has one (or the time is up)."""
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    for published in client.follow("events", from_beginning=True, idle_timeout=30.0):
        message = published.message
        if isinstance(message, OrderAccepted | OrderRejected):
            seen[message.order_id].add((type(message).__name__, str(message.message_id)))
        if order_ids <= seen.keys() or time.monotonic() > deadline:
            break
    return seen


def test_every_order_settles_once_and_stock_adds_up_through_kills(
    kafka_broker: str, registry_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    inventory_prefix, orders_prefix = f"{topic_prefix}-inv", f"{topic_prefix}-ord"
    stock = Fleet(kafka_broker, registry_url, inventory_prefix, tmp_path / "inventory",
                  partitions=3, app_ref="shop.inventory:app", python_path=[SHOP])  # fmt: skip
    shop = Fleet(kafka_broker, registry_url, orders_prefix, tmp_path / "orders", partitions=3,
                 app_ref="shop.orders:app", peers={"inventory": inventory_prefix},
                 python_path=[SHOP])  # fmt: skip
    try:
        for fleet in (stock, shop):
            fleet.start(0)
            fleet.start(1)
        for fleet in (stock, shop):
            fleet.wait_ready(0)
            fleet.wait_ready(1)
            fleet.wait_topics()
        with ClubhouseClient.connect(kafka_broker, registry_url, topic_prefix=inventory_prefix,
                                     app=inventory.app) as client:  # fmt: skip
            levels = client.request_many(
                [Restock(item=f"item-{i}", quantity=FIRST_STOCK) for i in range(ITEMS)], 60.0
            )
        assert all(isinstance(r, StockLevel) and r.available == FIRST_STOCK
                   for r in levels.values())  # fmt: skip
        # One order through the whole saga first: every group (both services' and the feed
        # loop's) has settled on its members before the kills. Tansu's coordinator can stop
        # assigning when a member dies in the middle of a rebalance (a broker limit, see
        # the skipped storm scenario); this test is about kills mid-stream, not mid-join.
        with ClubhouseClient.connect(kafka_broker, registry_url, topic_prefix=orders_prefix,
                                     app=orders.app) as client:  # fmt: skip
            client.request(PlaceOrder(order_id="warm-up", item="item-0", quantity=1), 60.0)
            assert _settlements(client, {"warm-up"}).get("warm-up"), "the warm-up never settled"

        rng = random.Random(7)
        placed = [PlaceOrder(order_id=f"order-{n}", item=f"item-{rng.randrange(ITEMS)}",
                             quantity=rng.randint(1, 5)) for n in range(ORDERS)]  # fmt: skip
        with ClubhouseClient.connect(kafka_broker, registry_url, topic_prefix=orders_prefix,
                                     app=orders.app) as client:  # fmt: skip
            sending = threading.Thread(target=_send_paced, args=(client, placed))
            sending.start()
            time.sleep(1.0)  # mid-stream
            shop.kill9(0)
            stock.kill9(1)
            shop.start(0)
            stock.start(1)
            sending.join()
            settled = _settlements(client, {o.order_id for o in placed})

        unsettled = sorted({o.order_id for o in placed} - settled.keys())
        assert not unsettled, f"{len(unsettled)} orders never settled: {unsettled[:5]}..."
        twice = {k: v for k, v in settled.items() if len(v) != 1}
        assert not twice, f"orders settled more than once: {dict(list(twice.items())[:5])}"

        taken: dict[str, int] = defaultdict(int)
        accepted = 0
        for order in placed:
            [(kind, _)] = settled[order.order_id]
            if kind == "OrderAccepted":
                taken[order.item] += order.quantity
                accepted += 1
        if any(kind == "OrderAccepted" for kind, _ in settled.get("warm-up", set())):
            taken["item-0"] += 1
        # About 600 asked for against 500 in stock: some orders of each kind.
        assert 0 < accepted < ORDERS
        final = _states(kafka_broker, inventory_prefix, registry_url, inventory.app)
        for i in range(ITEMS):
            item = f"item-{i}"
            state = final[item]
            assert state["available"] >= 0, (item, state)
            assert state["available"] == FIRST_STOCK - taken[item], (item, state, taken[item])
            assert state["reserved"] == taken[item], (item, state)
        order_states = _states(kafka_broker, orders_prefix, registry_url, orders.app)
        for order in placed:
            [(kind, _)] = settled[order.order_id]
            expected = "accepted" if kind == "OrderAccepted" else "rejected"
            assert order_states[order.order_id]["status"] == expected, order.order_id
        # An instance following topics stops cleanly, its feed loop with it.
        assert shop.terminate(1) == 0
        assert stock.terminate(0) == 0
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stock.logs()}\n{shop.logs()}") from None
    finally:
        shop.stop_all()
        stock.stop_all()


def _send_paced(client: ClubhouseClient, placed: list[PlaceOrder]) -> None:
    for n, order in enumerate(placed):
        client.send(order)
        if n % 20 == 19:
            time.sleep(0.2)  # about 100 a second: the kills land in the middle


def _states(bootstrap: str, prefix: str, registry_url: str, app: App) -> dict[str, dict[str, Any]]:
    """Every key's committed state, as JSON values (a typed state read through its schema)."""
    reader = KafkaConsumer(KafkaSettings(bootstrap_servers=bootstrap), partition_eof=True)
    registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[registry_url]))
    model = app.state_model
    codec = None if model is None else AvroStateCodec(
        MessageSerde(registry, app.catalog(), prefix), model
    )  # fmt: skip
    try:
        query = StateQuery(reader.read_to_end, changelog_topic(prefix), 3, codec=codec)
        return {s.key: s.state for s in query.every()}
    finally:
        reader.close()
        registry.close()
