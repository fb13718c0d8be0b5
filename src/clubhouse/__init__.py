"""Clubhouse: Kafka commands, responses and events on Pydantic contracts registered as Avro."""

__version__ = "0.1.0"
