"""The ``clubhouse`` command line: thin click commands over functions tests can call."""
