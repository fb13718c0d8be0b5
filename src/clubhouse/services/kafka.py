"""The Kafka layer on confluent-kafka: settings, producer, consumer and admin wrappers.

Import from here; each piece lives in its own module (``kafka_settings``, ``kafka_producer``,
``kafka_consumer``, ``kafka_admin``, ``kafka_errors``), and the interfaces the rest of
Clubhouse depends on are in ``kafka_protocol``. The transactional producer lives with the
exactly-once runtime (``clubhouse.runtime.transactional_producer``).
"""

from clubhouse.services.kafka_admin import BROKER_DEFAULT, KafkaAdmin, TopicSpec
from clubhouse.services.kafka_consumer import KafkaConsumer
from clubhouse.services.kafka_errors import (
    BatchDeliveryError,
    CommitError,
    ConsumeError,
    DeliveryError,
    DeliveryTimeoutError,
    FatalKafkaError,
    KafkaClientError,
    KafkaConfigError,
    ProduceError,
    ReadToEndTimeoutError,
    RebalanceListenerError,
    TopicAdminError,
    TransactionAbortableError,
    TransactionError,
    TransactionFencedError,
    TransactionTimeoutError,
)
from clubhouse.services.kafka_producer import KafkaProducer
from clubhouse.services.kafka_protocol import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_STORED,
    ConsumedRecord,
    DeliveredRecord,
    ProducerRecord,
    RebalanceListener,
    TopicOffset,
)
from clubhouse.services.kafka_settings import (
    AutoOffsetReset,
    IsolationLevel,
    KafkaSettings,
    SecurityProtocol,
)

__all__ = [
    "BROKER_DEFAULT",
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "OFFSET_STORED",
    "AutoOffsetReset",
    "BatchDeliveryError",
    "CommitError",
    "ConsumeError",
    "ConsumedRecord",
    "DeliveredRecord",
    "DeliveryError",
    "DeliveryTimeoutError",
    "FatalKafkaError",
    "IsolationLevel",
    "KafkaAdmin",
    "KafkaClientError",
    "KafkaConfigError",
    "KafkaConsumer",
    "KafkaProducer",
    "KafkaSettings",
    "ProduceError",
    "ProducerRecord",
    "ReadToEndTimeoutError",
    "RebalanceListener",
    "RebalanceListenerError",
    "SecurityProtocol",
    "TopicAdminError",
    "TopicOffset",
    "TopicSpec",
    "TransactionAbortableError",
    "TransactionError",
    "TransactionFencedError",
    "TransactionTimeoutError",
]
