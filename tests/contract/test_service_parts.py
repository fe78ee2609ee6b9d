"""Every service declares its parts (``SERVICE`` in its package) and each declared name resolves
to what the runner calls; declaring them imports nothing of the service's layers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import BROKER_SERVICES, SERVICES
from zeroclear.services import parts

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_declares_parts_that_resolve_to_callables(name):
    p = parts(name)
    assert p.name == name
    for part in (p.bootstrap, p.create_app, p.migrate):
        assert callable(part)
    assert (p.worker is not None) == (name in BROKER_SERVICES)
    assert p.probes is None or callable(p.probes)
    # the services that answer reads from a fold keep it current where they serve (shared.journal.KeepFolded)
    assert (p.keeper is not None) == (name in ("assessment", "notify")) and (p.keeper is None or callable(p.keeper))


def test_importing_a_domain_module_loads_no_web_database_or_broker_library():
    code = ("import sys; import services.ledger.domain.chain, services.intake.domain.errors; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'kombu', 'services.ledger.bootstrap') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
