"""Process-wide logging configuration: readable text or one JSON object per line.

Structured fields travel in ``extra={...}`` so that both formats carry them. Secrets never
reach a log record: callers pass redacted values (see
``clubhouse.services.registry_urls.redact_url``).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# Attributes every LogRecord has; anything else was passed through ``extra``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def one_line(value: object, limit: int | None = None) -> str:
    """``value`` as text that cannot forge a log line: control characters escaped, cut to ``limit``.

    Paths, headers and names come from clients; a raw newline in them would start what looks
    like a new, genuine log record, and terminal escape codes could rewrite the operator's
    screen.
    """
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    # Built by hand: the "unicode_escape" codec is imported lazily, which fails exactly when
    # the process is out of file descriptors and has the most to log.
    code = ord(ch)
    return _ESCAPES.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a caller attached to ``record`` with ``extra``."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the ``extra`` fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object: time, level, logger, message, extra fields, traceback."""
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(record_fields(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` for humans at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The formatted message, kept on one line."""
        return one_line(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        """The traceback, with each exception's own text on one line.

        An exception's message is whatever the code that raised it put there, handler code
        and the values it read included: a newline in it would start a line that reads like
        a genuine record, and terminal escape codes could rewrite the operator's screen.
        """
        text = super().formatException(ei)
        seen: set[int] = set()
        exc: BaseException | None = ei[1]
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            told = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
            if told and not told.isprintable():
                text = text.replace(told, one_line(told))
            exc = exc.__cause__ or exc.__context__
        return "\n".join(line if line.isprintable() else one_line(line)
                         for line in text.split("\n"))  # fmt: skip

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record followed by its extra fields as ``key=value``."""
        # Another handler may have cached its own, unescaped rendering of the traceback.
        cached, record.exc_text = record.exc_text, None
        try:
            base = super().format(record)  # a traceback, if any, keeps its own lines
        finally:
            record.exc_text = cached
        fields = record_fields(record)
        if not fields:
            return base
        tail = " ".join(f"{one_line(k)}={one_line(v)}" for k, v in fields.items())
        return f"{base} {tail}"


def configure_logging(level: int = logging.INFO, fmt: LogFormat = "text") -> None:
    """Send Clubhouse's logs to stderr in the chosen format; later calls replace earlier ones."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # librdkafka and httpx are chatty at DEBUG; keep them at WARNING unless asked otherwise.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
