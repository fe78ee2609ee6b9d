"""``zeroclear circular``: circulars issued through the running notify service's API."""
from __future__ import annotations

import os
from pathlib import Path

import click

from .common import echo_json


@click.group()
def circular():
    """Circulars (通报, SPEC §7), through the running notify service's API with an office key."""


def _service_url(name: str) -> str:
    """Where the command line finds a running service: ``ZEROCLEAR_<NAME>_URL``, else its port on
    this machine (``ZEROCLEAR_<NAME>_PORT``, default as ``zeroclear run`` serves it)."""
    from shared.config import DEFAULT_PORTS

    prefix = f"ZEROCLEAR_{name.upper()}"
    port = os.environ.get(f"{prefix}_PORT", DEFAULT_PORTS[name])
    return os.environ.get(f"{prefix}_URL") or f"http://127.0.0.1:{port}"


def _api(name: str, key: str):
    """``name``'s running API for the command line; ``call`` ends the command with a one-line error."""
    from ..client import ApiError, Client

    client = Client({name: _service_url(name)}, key)

    def call(method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs):
        try:
            return client.call(method, name, path, ok, **kwargs)
        except ApiError as exc:
            hint = f": is the system running? (ZEROCLEAR_{name.upper()}_URL says where)" if exc.unreachable else ""
            raise click.ClickException(f"{exc}{hint}") from None
    return call


@circular.command("issue")
@click.option("--year", type=int, required=True, help="The campaign year it reports on.")
@click.option("--position", type=int, help="The ledger position to pin it to (default: the latest notify has followed).")
@click.option("--period", help="The month it reports on, YYYY-MM (default: the position's).")
@click.option("--save", "save_dir", type=click.Path(file_okay=False), help="Also download its JSON, HTML and PDF here, "
              "each checked against the SHA-256 recorded on the ledger.")
@click.option("--key", envvar="ZEROCLEAR_KEY", required=True, help="An office key (or ZEROCLEAR_KEY).")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0, 600), default=30, show_default=True,
              help="Seconds to wait for the circular to be recorded on the ledger (its seq).")
def circular_issue(year, position, period, save_dir, key, wait_seconds):
    """Issue a circular now, pinned to a ledger position, and print it once it is recorded on the
    ledger, with its seq there (the same position gives the same circular: it is issued once)."""
    import hashlib

    call = _api("notify", key)
    body = {"year": year, **({"position": position} if position is not None else {}),
            **({"period": period} if period else {})}
    answer = call("POST", "/v1/circulars", ok=(200, 201), json=body)
    issued = {**answer.json(), "new": answer.status_code == 201}
    if issued.get("seq") is None:
        issued["seq"] = _recorded_seq(call, issued["circular_id"], year, wait_seconds)
    if save_dir:
        folder = Path(save_dir)
        folder.mkdir(parents=True, exist_ok=True)
        issued["saved"] = {}
        for fmt in ("json", "html", "pdf"):
            if issued.get(f"{fmt}_sha256") is None:
                continue  # no PDF where the server has no CJK font
            content = call("GET", f"/v1/circulars/{issued['circular_id']}.{fmt}").content
            if hashlib.sha256(content).hexdigest() != issued[f"{fmt}_sha256"]:
                raise click.ClickException(f"the {fmt} document does not match its recorded SHA-256")
            path = folder / f"circular-{issued['circular_id']}.{fmt}"
            path.write_bytes(content)
            issued["saved"][fmt] = str(path)
    echo_json(issued)


def _recorded_seq(call, circular_id: str, year: int, wait_seconds: float) -> int:
    """The seq of the circular's event on the ledger, once notify has followed the log to it."""
    import time

    deadline = time.monotonic() + wait_seconds
    while True:
        listed = call("GET", "/v1/circulars", params={"year": year}).json()["circulars"]
        seq = next((c.get("seq") for c in listed if c["circular_id"] == circular_id), None)
        if seq is not None:
            return seq
        if time.monotonic() >= deadline:
            raise click.ClickException(f"circular {circular_id} was issued but is not recorded on the ledger after "
                                       f"{wait_seconds:g} s (--wait): GET /v1/circulars shows its seq once it is")
        time.sleep(0.2)

