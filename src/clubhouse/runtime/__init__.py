"""The exactly-once runtime: one home for everything between a consumed batch and its commit.

- ``service_loop``: the consume -> process -> commit loop over the partitions an instance owns;
- ``batch_worker``: runs a batch's records through the processor with a time limit per record;
- ``committers`` and ``transactional_producer``: a batch into Kafka in one transaction (or at
  least once);
- ``partitions``, ``restore``, ``changelog``, ``state_store``: keyed state owned per partition,
  kept in a compacted changelog and a local copy, restored on assignment;
- ``transactional_id``: the instance id and the transactional id derived from it;
- ``state_query``, ``state_endpoint``: committed state read from outside, or asked of an
  instance.

Apart from the transactional producer (librdkafka's transactional API), it depends on the
Kafka protocols (``services/kafka_protocol.py``), never on concrete clients;
``clubhouse.app`` assembles it. What one record becomes is ``messaging``'s job.
"""
