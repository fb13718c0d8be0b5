"""Reader/writer compatibility checks for all seven levels, on ``avro.compatibility``.

The pair check is ``clubhouse.avro.checker.LinearChecker``: the ``avro`` package's rules in
time linear in a record's width, with record aliases resolved as the Avro specification and
Java Avro do (docs/compatibility-semantics.md).

BACKWARD means the new schema (reader) can read data written with an earlier one (writer);
FORWARD the reverse; FULL both. Non-transitive levels compare with the latest live version,
transitive ones with every live version. Each problem becomes one readable message naming
the version, the direction, the field path and the reason.

Schemas in, messages out: the embedded registry runs ``check`` on every register and
compatibility test, and the offline evolution tools run the same function, so the two can
never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    check_fixed_size,
    check_reader_enum_contains_writer_enum,
)

from clubhouse.avro.checker import LinearChecker, check_names


class CompatibilityLevel(StrEnum):
    """Confluent's seven compatibility levels; BACKWARD is the default."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        """Whether the level checks against every earlier version, not just the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks_backward(self) -> bool:
        """The new schema must read data written with earlier ones."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        """Earlier schemas must read data written with the new one."""
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a reader cannot read a writer's data, at one place in the schema."""

    location: str
    path: str
    kind: SchemaIncompatibilityType
    detail: str

    def describe(self) -> str:
        """One readable line: where the problem is and why."""
        reason = _REASONS.get(self.kind, "{detail}").format(detail=self.detail)
        where = f"'{self.path}'" if self.path else "the top level"
        return f"at {where} ({self.location}): {reason}"


_REASONS = {
    SchemaIncompatibilityType.reader_field_missing_default_value: (
        "the reader has field '{detail}' with no default, and the writer does not have it"
    ),
    SchemaIncompatibilityType.type_mismatch: "{detail}",
    SchemaIncompatibilityType.name_mismatch: "the type names differ ({detail})",
    SchemaIncompatibilityType.fixed_size_mismatch: "the fixed sizes differ ({detail})",
    SchemaIncompatibilityType.missing_enum_symbols: (
        "the reader's enum lacks the writer's symbols {detail} and has no default symbol"
    ),
    SchemaIncompatibilityType.missing_union_branch: "{detail}",
}


class _TracingChecker(LinearChecker):
    """The checker, remembering every sub-result so reasons can be paired with places.

    The library merges messages and locations into two unordered sets; every single-problem
    sub-result it computed on the way still holds one message next to one location.
    """

    def __init__(self) -> None:
        super().__init__()
        self.single: dict[str, tuple[SchemaIncompatibilityType, str]] = {}

    def get_compatibility(
        self,
        reader: avro.schema.Schema,
        writer: avro.schema.Schema,
        reference_token: str = ReaderWriterCompatibilityChecker.ROOT_REFERENCE_TOKEN,
        location: list[str] | None = None,
    ) -> SchemaCompatibilityResult:
        result: SchemaCompatibilityResult = super().get_compatibility(
            reader, writer, reference_token, location
        )
        self._remember(result)
        return result

    def calculate_compatibility(
        self, reader: avro.schema.Schema, writer: avro.schema.Schema, location: list[str]
    ) -> SchemaCompatibilityResult:
        # Name, size and symbol checks are merged into their record's result straight away;
        # running the library's own (pure) checks here too records each on its own.
        if (
            reader.type == writer.type
            and isinstance(reader, avro.schema.NamedSchema)
            and isinstance(writer, avro.schema.NamedSchema)
        ):
            self._remember(check_names(reader, writer, location))
            if isinstance(reader, avro.schema.FixedSchema) and isinstance(
                writer, avro.schema.FixedSchema
            ):
                self._remember(check_fixed_size(reader, writer, location))
            if isinstance(reader, avro.schema.EnumSchema) and isinstance(
                writer, avro.schema.EnumSchema
            ):
                self._remember(check_reader_enum_contains_writer_enum(reader, writer, location))
        result: SchemaCompatibilityResult = super().calculate_compatibility(
            reader, writer, location
        )
        return result

    def _remember(self, result: SchemaCompatibilityResult) -> None:
        if (
            result.compatibility is SchemaCompatibilityType.incompatible
            and len(result.messages) == 1
            and len(result.locations) == 1
            and len(set(result.incompatibilities)) == 1
        ):
            (location,) = result.locations
            (message,) = result.messages
            self.single.setdefault(location, (result.incompatibilities[0], message))


def _field_path(schema: avro.schema.Schema, location: str) -> str:
    """Turn ``/fields/2/type/items`` into a dotted path of field names the reader can follow."""
    parts: list[str] = []
    node: avro.schema.Schema | None = schema
    tokens = [t for t in location.split("/") if t]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "fields" and i + 1 < len(tokens) and isinstance(node, avro.schema.RecordSchema):
            index = int(tokens[i + 1]) if tokens[i + 1].isdigit() else -1
            if not 0 <= index < len(node.fields):
                break
            field = node.fields[index]
            parts.append(field.name)
            node = field.type
            i += 2
            continue
        if token == "type":
            i += 1
            continue
        if token == "items" and isinstance(node, avro.schema.ArraySchema):
            parts.append("[]")
            node = node.items
        elif token == "values" and isinstance(node, avro.schema.MapSchema):
            parts.append("{}")
            node = node.values
        elif token in ("name", "size", "symbols") and i == len(tokens) - 1:
            break  # a property of the type reached so far; the reason names it
        else:
            # Union branch indexes refer to the writer's union; stop following the reader.
            parts.append("/".join(tokens[i:]))
            break
        i += 1
    return ".".join(parts).replace(".[]", "[]").replace(".{}", "{}")


def check_pair(reader: avro.schema.Schema, writer: avro.schema.Schema) -> list[Incompatibility]:
    """Why ``reader`` cannot read what ``writer`` wrote; empty when it can."""
    checker = _TracingChecker()
    result: SchemaCompatibilityResult = checker.get_compatibility(reader, writer)
    if result.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    # The library's merge also unions in the placeholder location of compatible
    # sub-results, so some locations carry no problem; only those with a message count.
    paired: dict[str, tuple[SchemaIncompatibilityType, str]] = {}
    unpaired = set(result.messages)
    for location in result.locations:
        if location in checker.single and checker.single[location][1] in unpaired:
            paired[location] = checker.single[location]
    unpaired -= {message for _, message in paired.values()}
    for location in sorted(set(result.locations) - set(paired)):
        # Several missing-default fields of one record are merged before any sub-result
        # isolates them; the library's message for that kind is the field's own name.
        leaf = _field_path(reader, location).rsplit(".", 1)[-1]
        if location.rsplit("/", 2)[-2:-1] == ["fields"] and leaf in unpaired:
            paired[location] = (SchemaIncompatibilityType.reader_field_missing_default_value, leaf)
            unpaired.discard(leaf)
    found = [
        Incompatibility(location, _field_path(reader, location), kind, message)
        for location, (kind, message) in sorted(paired.items())
    ]
    if unpaired:  # never expected; report rather than hide what the library found
        found.append(
            Incompatibility("?", "", result.incompatibilities[0], "; ".join(sorted(unpaired)))
        )
    return found


def check(
    level: CompatibilityLevel | str,
    candidate: avro.schema.Schema,
    previous: Sequence[tuple[int, avro.schema.Schema]],
) -> list[str]:
    """Messages explaining why ``candidate`` breaks ``level`` against ``previous``.

    ``previous`` holds the live versions, oldest first, as (version, schema). An empty
    answer means compatible. ``level`` may be given by name (``"FULL"``).
    """
    level = CompatibilityLevel(level)
    if level is CompatibilityLevel.NONE or not previous:
        return []
    targets = previous if level.transitive else previous[-1:]
    messages: list[str] = []
    for version, old in targets:
        if level.checks_backward:
            for problem in check_pair(candidate, old):
                messages.append(
                    f"{level.value}: the new schema cannot read data written with version "
                    f"{version}, {problem.describe()}"
                )
        if level.checks_forward:
            for problem in check_pair(old, candidate):
                messages.append(
                    f"{level.value}: version {version} cannot read data written with the new "
                    f"schema, {problem.describe()}"
                )
    return messages
