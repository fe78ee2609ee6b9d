"""The public announcement as open data and as a page: JSON (canonical, the text as filed), CSV
(UTF-8 with a byte order mark, so that Excel and WPS open the Chinese right, every cell a
spreadsheet would run neutralised) and HTML (every text escaped)."""
from __future__ import annotations

import csv
import html
import io
import unicodedata
from typing import Any, Iterable, Iterator, Mapping

from shared import canonical

from .domain.announcement import ENTERPRISE_COLUMNS, TIP_COLUMNS, public_enterprise, public_tip

FLUSH_BYTES = 64 * 1024


def as_json(content: Mapping[str, Any]) -> bytes:
    return canonical.dumps_checked(dict(content))


def json_stream(rows: Iterable[tuple[str, Any]], today: str, names: Mapping[str, str]) -> Iterator[bytes]:
    """The same canonical bytes as ``as_json`` of the whole announcement (its keys in order:
    as_of, enterprises, position, tips), written row by row from ``AnnouncementRows.stream``."""
    rows = iter(rows)
    _, position = next(rows)
    parts: list[bytes] = [b'{"as_of":', canonical.dumps_checked(today), b',"enterprises":[']
    size, section, first = 0, "item", True
    for kind, row in rows:
        if kind != section:
            parts.append(b'],"position":' + canonical.dumps(int(position)) + b',"tips":[')
            section, first = kind, True
        body = canonical.dumps_checked(public_enterprise(row, today, names) if kind == "item" else public_tip(row, names))
        parts.append(body if first else b"," + body)
        first, size = False, size + len(body)
        if size >= FLUSH_BYTES:
            yield b"".join(parts)
            parts, size = [], 0
    if section == "item":
        parts.append(b'],"position":' + canonical.dumps(int(position)) + b',"tips":[')
    parts.append(b"]}")
    yield b"".join(parts)


def csv_stream(rows: Iterable[tuple[str, Any]], today: str, names: Mapping[str, str]) -> Iterator[bytes]:
    """The enterprises as ``as_csv`` writes them, row by row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([title for _, title in ENTERPRISE_COLUMNS])
    for kind, row in rows:
        if kind != "item":
            continue
        public = public_enterprise(row, today, names)
        writer.writerow([spreadsheet_text(public[name]) for name, _ in ENTERPRISE_COLUMNS])
        if out.tell() >= FLUSH_BYTES:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def as_csv(content: Mapping[str, Any]) -> bytes:
    """The enterprises, one row each (the tip outcomes are in the JSON and on the page)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for _, title in ENTERPRISE_COLUMNS])
    for row in content["enterprises"]:
        writer.writerow([spreadsheet_text(row[name]) for name, _ in ENTERPRISE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_FORMULA_SIGNS = frozenset("=+-@")
_BLANK_CATEGORIES = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))  # spaces, controls, invisible format characters


def spreadsheet_text(value: Any) -> Any:
    """A cell a spreadsheet shows as text rather than runs (OWASP, CSV injection): text that
    starts with a tab or carriage return, or whose first visible character is ``= + - @`` (or its
    full-width form ＝ ＋ － ＠, after any leading spaces), gets a leading apostrophe; nothing else
    changes. Numbers are left as they are."""
    if not isinstance(value, str) or not value:
        return value
    visible = next((c for c in value if unicodedata.category(c) not in _BLANK_CATEGORIES), "")
    if value[0] in "\t\r" or unicodedata.normalize("NFKC", visible)[:1] in _FORMULA_SIGNS:
        return "'" + value
    return value


def as_html(content: Mapping[str, Any]) -> bytes:
    """A page of the announcement: ``content`` holds as_of, position, the page's enterprises, the
    latest resolved tips, and ``next`` (the address of the following page) when there is one."""
    def table(columns, rows) -> str:
        head = "".join(f"<th>{html.escape(title)}</th>" for _, title in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(row[name]))}</td>" for name, _ in columns) + "</tr>"
                       for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    following = (f'<p><a href="{html.escape(content["next"])}">下一页</a></p>' if content.get("next") else "")
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>淘汰落后产能公告</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #999;padding:.3em .5em;font-size:.9em}th{background:#eee}</style></head><body>"
        "<h1>河南省淘汰落后产能清零行动公告</h1>"
        f"<p>截至{html.escape(content['as_of'])}（台账第{int(content['position'])}条记录）</p>"
        f"<h2>落后产能企业及淘汰进展（本页{len(content['enterprises'])}项）</h2>"
        + table(ENTERPRISE_COLUMNS, content["enterprises"]) + following
        + f"<h2>群众举报办理结果（最近{len(content['tips'])}件）</h2>"
        + table(TIP_COLUMNS, content["tips"])
        + "<p>全部内容另提供开放数据：<a href=\"/public/announcement.csv\">CSV</a>、"
          "<a href=\"/public/announcement.json\">JSON</a>。</p></body></html>"
    )
    return page.encode("utf-8")
