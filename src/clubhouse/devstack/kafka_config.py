"""``server.properties`` for one combined KRaft node of a loopback dev/test cluster."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def node_properties(
    *,
    node_id: int,
    host: str,
    broker_port: int,
    controller_port: int,
    voters: str,
    log_dir: Path,
    cluster_size: int,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """The properties text; ``voters`` is ``controller.quorum.voters`` for the whole cluster.

    Replication fits the cluster: a 3-node cluster replicates everything (the offsets and
    transaction-state topics, and topics created with the broker's default) 3 times with
    ``min.insync.replicas=2``, so one node can be stopped without losing a write.
    """
    replicas = min(cluster_size, 3)
    min_isr = min(cluster_size, 2)
    props: dict[str, str] = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{host}:{broker_port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replicas),
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        # Fast group joins and few internal partitions: dev and test clusters are small,
        # and every internal partition is one more leader to elect on a 2-core machine.
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.num.partitions": "3",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "background.threads": "2",
        "log.cleaner.threads": "1",
        "auto.create.topics.enable": "true",
    }
    props.update(overrides or {})
    return "".join(f"{key}={value}\n" for key, value in props.items())
