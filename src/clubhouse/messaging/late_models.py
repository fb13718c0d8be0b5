"""Registers a message model that a handler first publishes at run time.

An App's models are found at start (annotations, ``emits=``, ``app.models()`` and every
message class of the app's and its handlers' modules). One made later, say inside a
function, is registered when it is first published, as Confluent's serializers do by
default, with a warning saying how to declare it. When that is refused, the command that
published it is answered ``undeclared_output`` (see ``CommandProcessor``).
"""

from __future__ import annotations

import logging

from clubhouse.contracts import BaseMessage, MessageCatalog
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.subjects import subject_name
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol

log = logging.getLogger(__name__)


class LateModels:
    """Registers models met at run time and makes them known to the serde."""

    def __init__(
        self, registry: SchemaRegistryProtocol, serde: MessageSerde, topic_prefix: str
    ) -> None:
        self._registry = registry
        self._serde = serde
        self._prefix = topic_prefix

    def adopt(self, model: type[BaseMessage]) -> int:
        """Register ``model``'s schema and take it into the serde; its schema id.

        Raises whatever refused it: a registration error, or a name already taken.
        """
        subject = subject_name(self._prefix, model)
        log.warning(
            "registering a model that the app never declared; declare it (return annotation,"
            " emits=, or app.models) so that it is registered and checked before it is used",
            extra={"model": model.__name__, "subject": subject},
        )
        SchemaRegistrator(
            self._registry, MessageCatalog([model]), self._prefix, max_workers=1,
            raise_on_failure=True,
        ).register_all_schemas()  # fmt: skip
        return self._serde.add(model)
