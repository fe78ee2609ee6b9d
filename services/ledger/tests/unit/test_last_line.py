"""An export's checkpoint is its last line, read from the end of the file (exports can be large)."""
from __future__ import annotations

import pytest

from services.ledger.audit import last_line


@pytest.mark.parametrize("content, last", [
    (b"", b""), (b"\n\n", b""), (b"only", b"only"), (b"a\nb\n", b"b"), (b"a\r\nb\r\n", b"b"),
    (b"a\n" + b"x" * 2500 + b"\n\n", b"x" * 2500), (b"y" * 2500, b"y" * 2500),
], ids=["empty", "blank lines", "no newline", "two lines", "CRLF", "longer than a block", "one long line"])
def test_the_last_line_of_an_export_is_read_from_its_end(tmp_path, content, last):
    path = tmp_path / "export.jsonl"
    path.write_bytes(content)
    assert last_line(path, block=1000) == last
