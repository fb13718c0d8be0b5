"""``python -m clubhouse.registry``: the same commands as ``clubhouse registry``."""

from clubhouse.cli.registry_cmd import registry

if __name__ == "__main__":
    registry(prog_name="python -m clubhouse.registry")
