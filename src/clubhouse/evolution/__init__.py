"""Schema evolution tools: compatibility checks, diffs, registration plans and schema files.

Every check goes through ``clubhouse.avro.compatibility``, the checker the embedded registry
runs too, so offline checks against files and the registry's verdicts agree.
"""

from clubhouse.avro.parsing import SchemaTextError, parse_schema, type_label
from clubhouse.evolution.check import CheckReport, ModelCheck, check_model, check_models
from clubhouse.evolution.compare import Comparison, Reason, compare
from clubhouse.evolution.diff import FieldChange, ModelDiff, diff_model, diff_schemas
from clubhouse.evolution.files import (
    SchemaDirectory,
    SchemaDirectoryError,
    download_schemas,
    export_models,
    schema_filename,
)
from clubhouse.evolution.plan import PlannedStep, plan_model, plan_registration
from clubhouse.evolution.sources import DirectorySource, RegistrySource, SchemaSource

__all__ = [
    "CheckReport",
    "Comparison",
    "DirectorySource",
    "FieldChange",
    "ModelCheck",
    "ModelDiff",
    "PlannedStep",
    "Reason",
    "RegistrySource",
    "SchemaDirectory",
    "SchemaDirectoryError",
    "SchemaSource",
    "SchemaTextError",
    "check_model",
    "check_models",
    "compare",
    "diff_model",
    "diff_schemas",
    "download_schemas",
    "export_models",
    "parse_schema",
    "plan_model",
    "plan_registration",
    "schema_filename",
    "type_label",
]
