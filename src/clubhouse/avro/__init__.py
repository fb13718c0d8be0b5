"""Avro for Clubhouse contracts: the Pydantic -> Avro converter, the codec and wire framing.

Reader/writer compatibility checks live in ``clubhouse.avro.compatibility``.
"""

from clubhouse.avro.canonical import canonical_json
from clubhouse.avro.codec import AvroCodec
from clubhouse.avro.converter import CompiledModel, compile_model, model_to_avro
from clubhouse.avro.errors import (
    CodecError,
    DecodeError,
    EncodeError,
    FramingError,
    SchemaConversionError,
)
from clubhouse.avro.framing import frame, unframe

__all__ = [
    "AvroCodec",
    "CodecError",
    "CompiledModel",
    "DecodeError",
    "EncodeError",
    "FramingError",
    "SchemaConversionError",
    "canonical_json",
    "compile_model",
    "frame",
    "model_to_avro",
    "unframe",
]
