"""The CJK font a PDF circular embeds.

reportlab embeds (a subset of) TrueType fonts only; fonts with PostScript (CFF) outlines, such
as Noto Sans CJK from ``fonts-noto-cjk``, cannot be embedded by it and are deliberately absent
from the list below. The bytes of a PDF depend on the font file, so every machine that issues
circulars should carry the same one: the Debian package ``fonts-wqy-zenhei``.
"""
from __future__ import annotations

import logging
import os
from typing import Mapping

FONT_VARIABLE = "ZEROCLEAR_NOTIFY_FONT"
FONT_PACKAGE = "fonts-wqy-zenhei"

# Well-known TrueType CJK fonts on Debian/Ubuntu, preferred first (package in the comment).
KNOWN_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",                  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",                # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",                    # fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic/ukai.ttc",                     # fonts-arphic-ukai
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",        # fonts-arphic-gbsn00lp
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",     # fonts-droid-fallback
)

log = logging.getLogger(__name__)


class PdfUnavailable(Exception):
    """No usable CJK font: the PDF rendering of a circular cannot be made on this machine.
    The HTML and JSON renderings do not need a font and keep working."""


def find_cjk_font(env: Mapping[str, str] = os.environ) -> str | None:
    """The font file to embed: ``$ZEROCLEAR_NOTIFY_FONT`` if it names an existing file, else
    the first existing file of ``KNOWN_FONTS``, else ``None``."""
    chosen = env.get(FONT_VARIABLE, "").strip()
    if chosen:
        if os.path.isfile(chosen):
            return chosen
        log.warning("%s=%s is not a file; looking for a known CJK font instead",
                    FONT_VARIABLE, chosen)
    for path in KNOWN_FONTS:
        if os.path.isfile(path):
            return path
    return None


def no_font_message(env: Mapping[str, str] = os.environ) -> str:
    chosen = env.get(FONT_VARIABLE, "").strip()
    told = f" ({FONT_VARIABLE}={chosen} is not a file)" if chosen else ""
    return (f"PDF circulars need a TrueType CJK font and none was found{told}: install the "
            f"Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) or set "
            f"{FONT_VARIABLE} to the path of a TrueType (.ttf/.ttc) CJK font.")
