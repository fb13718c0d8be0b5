"""Error messages from the Avro libraries, made fit to send to a client.

fastavro and the avro package put schema fragments into their messages with Python's
``repr`` (``{'type': 'foo'}``, ``['null', 'long']``). A client sent JSON and should read JSON
back, so every such fragment is rewritten as compact JSON, and cut short when long, since a
fragment can be a whole multi-megabyte schema.
"""

from __future__ import annotations

import ast
import json

_SHOWN_CHARS = 200
_CLOSERS = {"{": "}", "[": "]"}


def _fragment_end(text: str, start: int) -> int | None:
    """Where the bracketed fragment opening at ``start`` ends (exclusive), quotes respected."""
    depth = 0
    quote: str | None = None
    i = start
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in _CLOSERS:
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _as_json(fragment: str) -> str | None:
    """``fragment`` as compact JSON when it is a Python dict or list literal, else None."""
    try:
        value = ast.literal_eval(fragment)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, (dict, list)):
        return None
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def json_quoted(message: str) -> str:
    """``message`` with each Python dict or list literal in it rewritten as JSON."""
    out: list[str] = []
    i = 0
    while i < len(message):
        ch = message[i]
        end = _fragment_end(message, i) if ch in _CLOSERS else None
        if end is None:
            out.append(ch)
            i += 1
            continue
        fragment = message[i:end]
        converted = _as_json(fragment)
        # A fragment that is not a literal is kept as it is, and not scanned again inside,
        # so the work stays linear in the message's length.
        out.append(fragment if converted is None else converted)
        i = end
    return "".join(out)
