"""The standalone verifier an auditor is handed (``zeroclear ledger verifier``): verify_export.py
with the standard-library modules it uses — the Merkle tree, signed notes, Ed25519 — written into
it in place of their imports, so that one file, read whole, is all there is to trust."""
from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = ("domain/ed25519.py", "domain/merkle.py", "domain/note.py")
_BLOCK = re.compile(r"# >>> bundled:.*?\n(.*?)# <<< bundled\n", re.S)


def _body(path: Path) -> str:
    """A module's code without its docstring and its postponed-annotations import (the file has one)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'\A""".*?"""\n', "", text, count=1, flags=re.S)
    text = text.replace("from __future__ import annotations\n", "")
    return f"# ---- {path.relative_to(HERE.parent.parent).as_posix()} ----\n{text.strip()}\n\n"


def standalone_verifier() -> str:
    source = (HERE / "verify_export.py").read_text(encoding="utf-8")
    if not _BLOCK.search(source):
        raise RuntimeError("verify_export.py has lost its bundled block")
    bundled = "".join(_body(HERE / name) for name in BUNDLED)
    return _BLOCK.sub(lambda _: "# ---- written in by `zeroclear ledger verifier` ----\n" + bundled
                      + "# ---- end of the written-in modules ----\n", source, count=1)
