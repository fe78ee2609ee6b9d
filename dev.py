#!/usr/bin/env python3
"""Set-up and the two everyday commands, with nothing but Python 3.11 and pip:

    python3 dev.py run     # install into .venv if needed, then run the whole system (embedded)
    python3 dev.py test    # install into .venv if needed, then run the test suite
    python3 dev.py bench   # install the benchmark extras too, then list the benchmarks
    python3 dev.py lock    # after changing a pin in pyproject.toml: rewrite requirements/*.lock

Anything after the command is passed on (``python3 dev.py test -k ledger``, ``python3 dev.py
run --data-dir /tmp/zc``). Dependencies are pinned in pyproject.toml; requirements/*.lock holds
them with every transitive dependency and the SHA-256 of each file, and installs use only that
(``pip install --require-hashes``), as deploy/Dockerfile does.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXTRAS = {"run": "test", "test": "test", "bench": "test,bench"}
LOCKS = {"": "main", "test": "test", "test,bench": "bench"}  # extras → requirements/<name>.lock
UV = "uv==0.13.9"  # what writes the locks (python3 dev.py lock)
#: System packages the project needs, with a file that shows each is there: a TrueType CJK font
#: for the circulars' PDF (embedded in every document; the Dockerfile installs it too), and the
#: chromium the portal's browser tests drive (Playwright never downloads a browser here).
SYSTEM_PACKAGES = {"fonts-wqy-zenhei": Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
                   "chromium": Path("/usr/bin/chromium")}


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"zeroclear needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock = ROOT / "requirements" / f"{LOCKS[extras]}.lock"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + lock.read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".install-stamp"
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return
    print(f"installing zeroclear and its locked dependencies [{extras}] into {VENV} ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(lock)], cwd=ROOT, check=True)
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", "."], cwd=ROOT, check=True)
    stamp.write_text(wanted + "\n")


def write_locks() -> int:
    """Resolve pyproject.toml's pins (and the build backend) into requirements/*.lock with hashes,
    for every platform, with uv in a virtual environment of its own."""
    tools = ROOT / ".venv-lock"
    uv = tools / ("Scripts" if os.name == "nt" else "bin") / "uv"
    if not uv.exists():
        venv.EnvBuilder(with_pip=True).create(tools)
        subprocess.run([str(uv.with_name("python")), "-m", "pip", "install", "-q", UV], check=True)
    for extras, name in LOCKS.items():
        args = [str(uv), "pip", "compile", "pyproject.toml", "requirements/build.in", "--generate-hashes",
                "--universal", "--python-version", "3.11", "--native-tls", "-q", "-o", f"requirements/{name}.lock"]
        for extra in filter(None, extras.split(",")):
            args += ["--extra", extra]
        subprocess.run(args, cwd=ROOT, check=True)
        print(f"requirements/{name}.lock written")
    return 0


def ensure_system_packages() -> None:
    """Install what is missing with apt-get where that is possible (Debian or Ubuntu, as root or
    with sudo); otherwise say what to install. Without the font the system still runs, and says
    that PDF circulars are unavailable; without chromium only the portal's browser tests cannot."""
    missing = [name for name, marker in SYSTEM_PACKAGES.items() if not marker.exists()]
    if not missing:
        return
    apt = "/usr/bin/apt-get"
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    prefix = [] if root else ["sudo", "-n"]
    if Path(apt).exists() and (root or shutil.which("sudo")):
        print(f"installing system packages {', '.join(missing)} ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run([*prefix, apt, "install", "-y", "-q", "--no-install-recommends", *missing], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:  # the package lists may be missing on a fresh machine
            subprocess.run([*prefix, apt, "update", "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            done = subprocess.run([*prefix, apt, "install", "-y", "-q", "--no-install-recommends", *missing], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode == 0:
            return
    print(f"warning: could not install {', '.join(missing)} (without the font PDF circulars are unavailable; "
          f"without chromium the portal's browser tests skip, or fail in CI); install them with your system's "
          f"package manager", file=sys.stderr, flush=True)


def parallel(rest: list[str]) -> list[str]:
    """pytest-xdist on every core (at most 4) unless the caller chose (``-n 0`` runs in one
    process): each worker has its own databases, data folders and RabbitMQ virtual host."""
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) or arg in ("no:xdist", "-pno:xdist")
           for arg in rest):
        return []
    return ["-n", str(max(1, min(os.cpu_count() or 1, 4))), "--dist", "loadfile"]


def main(argv: list[str]) -> int:
    if argv[:1] == ["lock"]:
        return write_locks()
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment(EXTRAS[command])
    ensure_system_packages()
    if command == "run":
        args = [str(BIN / "zeroclear"), "run", *rest]
    elif command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *parallel(rest), *rest]
    else:
        print("benchmarks (each prints its figures):")
        for path in sorted((ROOT / "bench").glob("*.py")):
            print(f"  {BIN / 'python'} bench/{path.name}")
        return 0
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
