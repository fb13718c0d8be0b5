"""A seeded generator of schema evolutions: (old, new) record schemas one to three changes apart.

``evolution(seed)`` always gives the same pair for the same seed. The changes cover fields
added and removed (with and without defaults), type promotions and demotions, enum symbols
(with and without an enum default), unions widened and narrowed, nested records, field and
record aliases, logical types and fixed sizes; ``Evolution.changes`` names the ones applied.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from typing import Any

Schema = Any

PRIMITIVES = ["int", "long", "float", "double", "string", "bytes", "boolean"]
LOGICAL = [
    {"type": "long", "logicalType": "timestamp-micros"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "int", "logicalType": "date"},
    {"type": "string", "logicalType": "uuid"},
    {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
    {"type": "long", "logicalType": "duration-micros"},
]
# Every primitive may be changed into any other; the promotions Avro allows come up most.
PROMOTIONS = {
    "int": ["long", "float", "double"],
    "long": ["float", "double"],
    "float": ["double"],
    "string": ["bytes"],
    "bytes": ["string"],
}
CHANGES = (
    "add_field_with_default", "add_field_without_default", "remove_field_with_default",
    "remove_field_without_default", "promote", "demote", "enum_add_symbol",
    "enum_remove_symbol", "enum_toggle_default", "union_widen", "union_narrow",
    "union_add_branch", "union_remove_branch", "rename_field_with_alias",
    "rename_field_without_alias", "rename_record_with_alias",
    "rename_record_with_qualified_alias", "rename_record_without_alias",
    "toggle_logical_type", "fixed_resize", "toggle_field_default", "nested_items_promote",
    "change_namespace", "rename_enum_or_fixed_with_alias", "record_in_union",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Evolution:
    seed: int
    old: str
    new: str
    changes: tuple[str, ...]


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def type_(self, depth: int) -> Schema:
        roll = self.rng.random()
        if roll < 0.40:
            return self.rng.choice(PRIMITIVES)
        if roll < 0.52:
            return copy.deepcopy(self.rng.choice(LOGICAL))
        if roll < 0.62:
            symbols = [f"S{i}" for i in range(self.rng.randint(1, 4))]
            enum: dict[str, Any] = {"type": "enum", "name": self.name("E"), "symbols": symbols}
            if self.rng.random() < 0.4:
                enum["default"] = self.rng.choice(symbols)
            return enum
        if roll < 0.67:
            return {"type": "fixed", "name": self.name("F"), "size": self.rng.randint(1, 8)}
        if roll < 0.77 and depth < 2:
            return self.record(depth + 1)
        if roll < 0.84:
            return {"type": "array", "items": self.type_(depth + 1)}
        if roll < 0.89:
            return {"type": "map", "values": self.type_(depth + 1)}
        if depth < 2 and self.rng.random() < 0.3:
            return ["null", self.record(depth + 1)]
        inner = self.rng.choice(PRIMITIVES)
        return ["null", inner] if self.rng.random() < 0.7 else [inner, "null"]

    def field(self, depth: int) -> dict[str, Any]:
        field: dict[str, Any] = {"name": self.name("f"), "type": self.type_(depth)}
        if self.rng.random() < 0.5:
            field["default"] = default_for(field["type"])
        return field

    def record(self, depth: int) -> dict[str, Any]:
        fields = [self.field(depth) for _ in range(self.rng.randint(1, 5))]
        return {"type": "record", "name": self.name("R"), "fields": fields}


def default_for(schema: Schema) -> Any:
    """A valid default value for ``schema``."""
    if isinstance(schema, list):
        return default_for(schema[0])
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind == "enum":
            return schema["symbols"][0]
        if kind == "fixed":
            return "\u0000" * schema["size"]
        if kind == "array":
            return []
        if kind == "map":
            return {}
        if kind == "record":
            return {f["name"]: default_for(f["type"]) for f in schema["fields"]}
        return default_for(kind)
    return {"null": None, "boolean": False, "int": 0, "long": 0, "float": 0.0, "double": 0.0,
            "string": "", "bytes": ""}[schema]  # fmt: skip


def _records(schema: Schema) -> list[dict[str, Any]]:
    """Every record in ``schema``, the top one first."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, list):
        for branch in schema:
            found += _records(branch)
    elif isinstance(schema, dict):
        if schema["type"] == "record":
            found.append(schema)
            for field in schema["fields"]:
                found += _records(field["type"])
        elif schema["type"] == "array":
            found += _records(schema["items"])
        elif schema["type"] == "map":
            found += _records(schema["values"])
    return found


def _set_type(field: dict[str, Any], new_type: Schema) -> None:
    field["type"] = new_type
    if "default" in field:
        field["default"] = default_for(new_type)


def _apply(gen: _Generator, top: dict[str, Any], change: str) -> bool:
    """Apply ``change`` somewhere in ``top``; False when the schema offers no place for it."""
    rng = gen.rng
    record = rng.choice(_records(top))
    fields: list[dict[str, Any]] = record["fields"]

    def pick(test: Any) -> dict[str, Any] | None:
        candidates = [f for r in _records(top) for f in r["fields"] if test(f)]
        return rng.choice(candidates) if candidates else None

    if change in ("add_field_with_default", "add_field_without_default"):
        field = gen.field(2)
        field.pop("default", None)
        if change == "add_field_with_default":
            field["default"] = default_for(field["type"])
        fields.insert(rng.randint(0, len(fields)), field)
        return True
    if change in ("remove_field_with_default", "remove_field_without_default"):
        want = change == "remove_field_with_default"
        places = [
            (r["fields"], f)
            for r in _records(top)
            if len(r["fields"]) > 1
            for f in r["fields"]
            if ("default" in f) == want
        ]
        if not places:
            return False
        owner, removed = rng.choice(places)
        owner.remove(removed)
        return True
    if change in ("promote", "demote"):
        promotable = pick(lambda f: isinstance(f["type"], str) and f["type"] in PROMOTIONS)
        if promotable is None:
            return False
        if change == "promote":
            _set_type(promotable, rng.choice(PROMOTIONS[promotable["type"]]))
        else:
            others = [p for p in PRIMITIVES if p != promotable["type"]]
            _set_type(promotable, rng.choice(others))
        return True
    if change.startswith("enum_"):
        holder = pick(
            lambda f: (
                isinstance(f["type"], dict)
                and f["type"]["type"] == "enum"
                and (change != "enum_remove_symbol" or len(f["type"]["symbols"]) > 1)
            )
        )
        if holder is None:
            return False
        enum = holder["type"]
        symbols: list[str] = enum["symbols"]
        if change == "enum_add_symbol":
            symbols.append(f"S{len(symbols) + rng.randint(10, 99)}")
        elif change == "enum_remove_symbol":
            if len(symbols) < 2:
                return False
            symbols.remove(rng.choice(symbols))
            if enum.get("default") not in (None, *symbols):
                enum["default"] = symbols[0]
        elif "default" in enum:
            del enum["default"]
        else:
            enum["default"] = rng.choice(symbols)
        if "default" in holder:
            holder["default"] = default_for(enum)
        return True
    if change == "union_widen":
        plain = pick(lambda f: isinstance(f["type"], str))
        if plain is None:
            return False
        # A default must match the first branch, so a field with one keeps its type first.
        widened = [plain["type"], "null"] if "default" in plain else ["null", plain["type"]]
        plain["type"] = widened
        return True
    if change == "union_narrow":
        union = pick(lambda f: isinstance(f["type"], list))
        if union is None:
            return False
        _set_type(union, next(b for b in union["type"] if b != "null"))
        return True
    if change in ("union_add_branch", "union_remove_branch"):
        least = 3 if change == "union_remove_branch" else 1
        union = pick(lambda f: isinstance(f["type"], list) and len(f["type"]) >= least)
        if union is None:
            return False
        branches: list[Any] = union["type"]
        if change == "union_add_branch":
            extra = [p for p in PRIMITIVES if p not in branches]
            branches.append(rng.choice(extra))
        else:
            if len(branches) < 3:
                return False
            branches.pop()
        return True
    if change in ("rename_field_with_alias", "rename_field_without_alias"):
        field = rng.choice(fields)
        old_name = field["name"]
        field["name"] = gen.name("renamed")
        if change == "rename_field_with_alias":
            field["aliases"] = [old_name]
        return True
    if change.startswith("rename_record"):
        old_name = record["name"]
        record["name"] = gen.name("Renamed")
        if change == "rename_record_with_alias":
            record["aliases"] = [old_name]
        elif change == "rename_record_with_qualified_alias":
            record["aliases"] = [f"{top.get('namespace', '')}.{old_name}".lstrip(".")]
        return True
    if change == "toggle_logical_type":
        field = pick(lambda f: isinstance(f["type"], dict) and "logicalType" in f["type"])
        if field is not None:
            _set_type(field, field["type"]["type"])
            return True
        plain = pick(lambda f: f["type"] in ("long", "int", "string"))
        if plain is None:
            return False
        logical = {"long": "timestamp-micros", "int": "date", "string": "uuid"}[plain["type"]]
        _set_type(plain, {"type": plain["type"], "logicalType": logical})
        return True
    if change == "fixed_resize":
        holder = pick(lambda f: isinstance(f["type"], dict) and f["type"]["type"] == "fixed")
        if holder is None:
            return False
        holder["type"]["size"] += 1
        if "default" in holder:
            holder["default"] = default_for(holder["type"])
        return True
    if change == "toggle_field_default":
        field = rng.choice(fields)
        if "default" in field:
            del field["default"]
        else:
            field["default"] = default_for(field["type"])
        return True
    if change == "nested_items_promote":
        holder = pick(
            lambda f: (
                isinstance(f["type"], dict)
                and f["type"]["type"] in ("array", "map")
                and isinstance(f["type"].get("items", f["type"].get("values")), str)
                and f["type"].get("items", f["type"].get("values")) in PROMOTIONS
            )
        )
        if holder is None:
            return False
        key = "items" if holder["type"]["type"] == "array" else "values"
        holder["type"][key] = rng.choice(PROMOTIONS[holder["type"][key]])
        return True
    if change == "rename_enum_or_fixed_with_alias":
        holder = pick(
            lambda f: isinstance(f["type"], dict) and f["type"]["type"] in ("enum", "fixed")
        )
        if holder is None:
            return False
        named = holder["type"]
        named["aliases"] = [named["name"]]
        named["name"] = gen.name("Renamed")
        return True
    if change == "record_in_union":
        holder = pick(lambda f: isinstance(f["type"], dict) and f["type"]["type"] == "record")
        if holder is None:
            return False
        # Either the record becomes optional, or a second record joins it in a union.
        if gen.rng.random() < 0.5:
            holder["type"] = ["null", holder["type"]]
            holder.pop("default", None)
        else:
            holder["type"] = [holder["type"], gen.record(2)]
            if "default" in holder:
                holder["default"] = default_for(holder["type"])
        return True
    if change == "change_namespace":
        top["namespace"] = "gen.other" if top.get("namespace") == "gen.v1" else "gen.v1"
        return True
    raise ValueError(f"unknown change {change!r}")


def _ensure_place(gen: _Generator, top: dict[str, Any], change: str) -> None:
    """Give ``top`` a field that ``change`` can work on, so every kind is really applied."""
    needs: dict[str, Schema] = {
        "promote": gen.rng.choice(list(PROMOTIONS)),
        "demote": gen.rng.choice(list(PROMOTIONS)),
        "enum_add_symbol": {"type": "enum", "name": gen.name("E"), "symbols": ["A", "B"]},
        "enum_remove_symbol": {"type": "enum", "name": gen.name("E"), "symbols": ["A", "B", "C"]},
        "enum_toggle_default": {"type": "enum", "name": gen.name("E"), "symbols": ["A", "B"]},
        "union_narrow": ["null", "string"],
        "union_add_branch": ["null", "long"],
        "union_remove_branch": ["null", "string", "long"],
        "fixed_resize": {"type": "fixed", "name": gen.name("F"), "size": 4},
        "nested_items_promote": {"type": "array", "items": "int"},
        "union_widen": "long",
        "toggle_logical_type": "long",
        "remove_field_with_default": "string",
        "remove_field_without_default": "string",
        "rename_enum_or_fixed_with_alias": {
            "type": "enum",
            "name": gen.name("E"),
            "symbols": ["A"],
        },
        "record_in_union": {
            "type": "record",
            "name": gen.name("R"),
            "fields": [{"name": gen.name("f"), "type": "int"}],
        },
    }
    if change in needs:
        field: dict[str, Any] = {"name": gen.name("f"), "type": needs[change]}
        if change != "remove_field_without_default" and gen.rng.random() < 0.5:
            field["default"] = default_for(field["type"])
        if change == "remove_field_with_default":
            field["default"] = default_for(field["type"])
        top["fields"].append(field)


def evolution(seed: int) -> Evolution:
    """The evolution of ``seed``: a random record and a copy with one to three changes."""
    rng = random.Random(seed)
    gen = _Generator(rng)
    old = gen.record(0)
    if rng.random() < 0.7:
        old["namespace"] = "gen.v1"
    # Cycle the first change through every kind, so each kind is covered by design.
    wanted = [CHANGES[seed % len(CHANGES)], *rng.sample(CHANGES, rng.randint(0, 2))]
    _ensure_place(gen, old, wanted[0])
    new = copy.deepcopy(old)
    applied: list[str] = []
    for change in wanted:
        if _apply(gen, new, change):
            applied.append(change)
    # A change inside a nested record can leave an enclosing default stale; Java rejects those.
    for record in _records(new):
        for field in record["fields"]:
            if "default" in field:
                field["default"] = default_for(field["type"])
    return Evolution(seed, json.dumps(old), json.dumps(new), tuple(applied))
