"""The import contracts of ``.importlinter`` hold for the repository — and each of them really
bites: the same check run on a scratch copy with one forbidden import added fails, naming the
broken contract."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("services", "shared", "zeroclear")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(root)})


def contract_names() -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    prefix = "importlinter:contract:"
    return {s[len(prefix):]: config[s]["name"] for s in config.sections() if s.startswith(prefix)}


def _flat(result: subprocess.CompletedProcess) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_the_repository_keeps_every_import_contract():
    result = lint_imports(ROOT)
    output = _flat(result)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in contract_names().values():
        assert f"{name} KEPT" in output


VIOLATIONS = {  # a case: (the contract it breaks, the file, the line appended to it)
    "services-independent": ("services-independent", "services/intake/handlers.py",
                             "from services.ledger.domain import events as _ledger_events"),
    "shared-knows-no-service": ("shared-knows-no-service", "shared/scratch_helper.py",
                                "import services.intake.domain.submissions as _intake"),
    "pure-domains": ("pure-domains", "services/ledger/domain/state.py", "import sqlalchemy as _sqlalchemy"),
    "layers": ("layers", "services/intake/domain/errors.py", "from services.intake import handlers as _handlers"),
    "layers-use-cases-know-no-adapter": ("layers", "services/intake/handlers.py",
                                         "from services.intake.adapters import repository as _repository"),
    "layers-adapters-know-no-use-case": ("layers", "services/ledger/adapters/tables.py",
                                         "from services.ledger import handlers as _handlers"),
    "no-circles": ("no-circles", "services/intake/entrypoints/schemas.py",
                   "from services.intake.entrypoints import http as _http"),
}  # (a domain importing its handlers reaches sqlalchemy through them, so that breaks purity as well)


@pytest.fixture(scope="module")
def pristine_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_contract_fails_the_check_when_a_scratch_copy_breaks_it(case, pristine_copy, tmp_path):
    scratch = tmp_path / "scratch"
    shutil.copytree(pristine_copy, scratch)
    contract, path, line = VIOLATIONS[case]
    with open(scratch / path, "a", encoding="utf-8") as handle:
        handle.write(f"\n{line}  # deliberately breaking {contract}\n")
    result = lint_imports(scratch)
    output = _flat(result)
    assert result.returncode != 0, output
    assert f"{contract_names()[contract]} BROKEN" in output
