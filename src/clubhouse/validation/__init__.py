"""Runtime validation of messages against the schemas registered for them.

``validate_against_registry`` lists every violation (field path, expected, found);
``StrictValidator`` is the producer-side hook that refuses non-conforming messages.
"""

from clubhouse.validation.conformance import Violation, describe_value, violations
from clubhouse.validation.registry import (
    SchemaViolationError,
    StrictValidator,
    SubjectNotRegisteredError,
    ValidationReport,
    fetch_registered,
    validate_against_registry,
)

__all__ = [
    "SchemaViolationError",
    "StrictValidator",
    "SubjectNotRegisteredError",
    "ValidationReport",
    "Violation",
    "describe_value",
    "fetch_registered",
    "validate_against_registry",
    "violations",
]
