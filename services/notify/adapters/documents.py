"""A circular's documents, rendered by ``services.notify.circulars``: its canonical JSON (the bytes
whose hash goes onto the ledger), HTML, and a PDF where a CJK TrueType font is installed."""
from __future__ import annotations

import orjson

from ..circulars import PdfUnavailable, render_html, render_json, render_pdf


class CircularDocuments:
    def render(self, content: dict) -> dict[str, bytes | None]:
        """The circular's documents; the PDF is None where no CJK font is installed."""
        try:
            pdf = render_pdf(content)
        except PdfUnavailable:
            pdf = None
        return {"json": render_json(content), "html": render_html(content), "pdf": pdf}

    def pdf(self, content: dict) -> bytes | None:
        return self.render(content)["pdf"]

    def document(self, row: dict, fmt: str) -> bytes | None:
        """One document of an issued circular: its JSON as stored (the canonical bytes hashed at
        issue), its HTML or PDF rendered again from that content (None: no CJK font for a PDF);
        ValueError for content of a layout this version no longer renders."""
        if fmt == "json":
            return row["content"].encode()
        content = orjson.loads(row["content"])
        if fmt == "html":
            return render_html(content)
        try:
            return render_pdf(content)
        except PdfUnavailable:
            return None
