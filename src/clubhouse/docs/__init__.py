"""Schema documentation: one HTML page, Markdown and AsyncAPI from the message catalog.

``build_docs_model`` gathers what the catalog (and optionally the registry) knows; the
renderers turn that model into files; ``build_site`` and ``write_site`` do all three at once.
"""

from clubhouse.docs.asyncapi import render_asyncapi
from clubhouse.docs.changelog import FieldChange, diff_schema_texts
from clubhouse.docs.errors import DocsError
from clubhouse.docs.html import render_html
from clubhouse.docs.markdown import render_markdown
from clubhouse.docs.model import DocsModel, FieldDoc, MessageDoc, RecordDoc, build_docs_model
from clubhouse.docs.registry_info import RegistryDoc, VersionDoc, registry_doc
from clubhouse.docs.site import SITE_FILES, build_site, write_site

__all__ = [
    "SITE_FILES",
    "DocsError",
    "DocsModel",
    "FieldChange",
    "FieldDoc",
    "MessageDoc",
    "RecordDoc",
    "RegistryDoc",
    "VersionDoc",
    "build_docs_model",
    "build_site",
    "diff_schema_texts",
    "registry_doc",
    "render_asyncapi",
    "render_html",
    "render_markdown",
    "write_site",
]
