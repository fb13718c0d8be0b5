"""The dev-stack supervisor: a broker (Tansu or Apache Kafka) and the embedded registry as
child processes.

The ``clubhouse dev`` command and the pytest fixtures both start processes through this
package, so what the tests exercise is what developers run. Children live in their own
process groups, are killed with the parent even on SIGKILL (Linux), and are waited on until
ready; failures are ``DevStackError`` subclasses that say which child failed and why.
"""

from clubhouse.devstack.broker import BrokerConfig, TansuBroker, resolve_tansu_binary
from clubhouse.devstack.brokers import BROKER_KINDS, Broker, create_broker
from clubhouse.devstack.errors import (
    BrokerBinaryNotFoundError,
    DevStackError,
    PortInUseError,
    ProcessExitedError,
    ReadinessTimeoutError,
)
from clubhouse.devstack.kafka import KAFKA_VERSION, KafkaCluster, KafkaConfig
from clubhouse.devstack.ports import pick_free_port, port_is_free
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.registry import RegistryConfig, RegistryServer
from clubhouse.devstack.runner import describe, format_env, shutdown_signals
from clubhouse.devstack.stack import BOOTSTRAP_ENV, REGISTRY_ENV, DevStack, DevStackConfig

__all__ = [
    "BOOTSTRAP_ENV",
    "BROKER_KINDS",
    "KAFKA_VERSION",
    "REGISTRY_ENV",
    "Broker",
    "BrokerBinaryNotFoundError",
    "BrokerConfig",
    "DevStack",
    "DevStackConfig",
    "DevStackError",
    "KafkaCluster",
    "KafkaConfig",
    "ManagedProcess",
    "PortInUseError",
    "ProcessExitedError",
    "ProcessSpec",
    "ReadinessTimeoutError",
    "RegistryConfig",
    "RegistryServer",
    "TansuBroker",
    "create_broker",
    "describe",
    "format_env",
    "pick_free_port",
    "port_is_free",
    "resolve_tansu_binary",
    "shutdown_signals",
]
