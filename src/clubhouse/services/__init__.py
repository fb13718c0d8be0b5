"""Adapters to the outside world: the schema registry and Kafka, behind protocols."""
