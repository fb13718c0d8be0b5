"""Wiring between contracts, Avro and the outside world: registration, routing, publishing."""
