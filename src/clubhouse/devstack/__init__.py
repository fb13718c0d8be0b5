"""The dev-stack supervisor: a broker (Tansu or Apache Kafka) and the embedded registry as
child processes.

The ``clubhouse dev`` command and the pytest fixtures both start processes through this
package, so what the tests exercise is what developers run. Children live in their own
process groups, are killed with the parent even on SIGKILL (Linux), and are waited on until
ready; failures are ``DevStackError`` subclasses that say which child failed and why. Once
up, ``supervisor`` watches them: it restarts the ones the stack can do without for a moment
(service instances, a node of a cluster of several) and stops on the others.
"""

from clubhouse.devstack.broker import BrokerConfig, TansuBroker
from clubhouse.devstack.brokers import BROKER_KINDS, Broker, create_broker
from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.kafka import KAFKA_VERSION, KafkaCluster, KafkaConfig
from clubhouse.devstack.registry import RegistryConfig, RegistryServer
from clubhouse.devstack.stack import DevStack, DevStackConfig

# The supervisor's parts (processes, ports, readiness, errors) stay in their own modules;
# this is what a user, or a test, starting a stack needs.
__all__ = [
    "BROKER_KINDS",
    "KAFKA_VERSION",
    "Broker",
    "BrokerConfig",
    "DevStack",
    "DevStackConfig",
    "DevStackError",
    "KafkaCluster",
    "KafkaConfig",
    "RegistryConfig",
    "RegistryServer",
    "TansuBroker",
    "create_broker",
]
