"""The service benchmark's peers: the same job as Clubhouse's echo agent, done by Kafka Streams
(``EchoStreams.java``, built by ``streams.py``) and by FastStream (``faststream_echo.py``),
and the comparison that measures them beside Clubhouse (``compare.py``, run by
``benchmarks/service.py --peers``). They are benchmarks, never tests."""
