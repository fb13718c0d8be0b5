"""The embedded, Confluent-compatible Schema Registry: storage, semantics, HTTP API, backup.

Run it with ``clubhouse registry serve``; embed it with :func:`create_app` over a
:class:`Registry` on a :class:`Store`.
"""

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry.api import create_app
from clubhouse.registry.errors import ApiError, ErrorCode
from clubhouse.registry.records import Mode, Reference
from clubhouse.registry.service import Registry, SchemaRequest
from clubhouse.registry.store import Store

__all__ = [
    "ApiError",
    "CompatibilityLevel",
    "ErrorCode",
    "Mode",
    "Reference",
    "Registry",
    "SchemaRequest",
    "Store",
    "create_app",
]
