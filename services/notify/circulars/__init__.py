"""Circulars (通报): the provincial office's progress bulletin, pinned to a ledger position,
rendered deterministically as canonical JSON, a self-contained HTML page and an A4 PDF.

The caller computes the content from the ledger's events (see ``content`` for its shape); this
package validates and renders it, and nothing here reads a clock, a database or the network.
"""
from __future__ import annotations

from typing import Any, Mapping

from services.notify.circulars.content import validate_content
from services.notify.circulars.fonts import PdfUnavailable, find_cjk_font
from services.notify.circulars.html import render_html
from services.notify.circulars.pdf import render_pdf
from shared.canonical import dumps_checked

__all__ = ["validate_content", "render_json", "render_html", "render_pdf", "find_cjk_font",
           "PdfUnavailable"]


def render_json(content: Mapping[str, Any]) -> bytes:
    """The canonical JSON (RFC 8785) of the content: identical bytes for identical content."""
    validate_content(content)
    return dumps_checked(content)
