"""Registry URLs as users type them (``localhost:8081`` means ``http://localhost:8081``), and
as they are shown (without credentials).

Without a scheme, ``urlsplit`` reads ``localhost:8081`` as scheme ``localhost``, and every
client then fails on a URL the user never wrote. Only ``//`` marks a scheme here, so a host
name is never taken for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


def with_scheme(url: str) -> str:
    """``url`` stripped, with ``http://`` in front when it names no scheme."""
    url = url.strip()
    return url if "://" in url else f"http://{url}"


def registry_urls(urls: str | Iterable[str]) -> list[str]:
    """The URLs of a comma-separated string (or of a list), each with a scheme; blanks dropped."""
    items = urls.split(",") if isinstance(urls, str) else urls
    return [with_scheme(url) for url in items if url.strip()]


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, safe to log."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
