"""The lock files (issue 16.9): every pin of pyproject.toml is in the lock its install uses, at the
same version, and every locked package carries the SHA-256 of its files (pip --require-hashes)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"main": (), "test": ("test",), "bench": ("test", "bench")}
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def pins(extras: tuple[str, ...]) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = list(project["project"]["dependencies"])
    for extra in extras:
        wanted += project["project"]["optional-dependencies"][extra]
    wanted += project["build-system"]["requires"]
    found = {}
    for requirement in wanted:
        match = _ENTRY.match(requirement)
        assert match, f"{requirement}: pin every dependency with =="
        found[_name(match[1])] = match[2]
    return found


def locked(name: str) -> dict[str, tuple[str, int]]:
    """package → (version, number of hashes)."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / "requirements" / f"{name}.lock").read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if match:
            current = _name(match[1])
            entries[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, count = entries[current]
            entries[current] = (version, count + 1)
    return entries


@pytest.mark.parametrize("lock, extras", LOCKS.items())
def test_each_lock_holds_every_pin_of_pyproject_at_its_version_with_hashes(lock, extras):
    entries = locked(lock)
    for package, version in pins(extras).items():
        assert package in entries, f"{package} is pinned in pyproject.toml but not in requirements/{lock}.lock: " \
                                   f"run `python3 dev.py lock`"
        assert entries[package][0] == version, f"{package}: pyproject.toml pins {version}, requirements/{lock}.lock " \
                                               f"{entries[package][0]}: run `python3 dev.py lock`"
    unhashed = [package for package, (_, count) in entries.items() if count == 0]
    assert not unhashed, f"requirements/{lock}.lock has packages without hashes: {unhashed}"
