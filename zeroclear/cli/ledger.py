"""``zeroclear ledger``: the auditors' commands — verify, prove, replay and export the log, its
snapshots and projections (the signing key's commands are in ``signing``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from shared.config import Settings

from .common import echo_json, ledger_repo
from .signing import signing_key


@click.group()
def ledger():
    """Audit the ledger: verify, replay, export."""


@ledger.command("verify")
@click.option("--deep", is_flag=True, help="Also rebuild the projections from the log (in a scratch database) and "
              "compare every version of every row with the stored ones, naming the rows that differ.")
@click.option("--trusted", multiple=True, metavar="CHECKPOINT",
              help="A checkpoint you kept (a file with its signed note, or SIZE:ROOT): the log must extend it.")
@click.option("--ledger-key", "ledger_keys", multiple=True, metavar="KEY",
              help="The ledger's verifier key (or a file of them), to trust a signed checkpoint you kept.")
def ledger_verify(deep, trusted, ledger_keys):
    """Recompute the hash chain; exit status 1 naming the first bad seq if it is broken (with
    --deep, or naming the projection rows that differ from the log's; with --trusted, the first
    checkpoint you kept that the log does not extend)."""
    repo = ledger_repo(read_only=True)
    if trusted:
        _held_to_trusted(repo, trusted, ledger_keys)
    if deep:
        from services.ledger.deep_verify import deep_verify

        verdict = deep_verify(repo.engine)
        echo_json(verdict)
        if not verdict["chain"]["ok"]:
            chain = verdict["chain"]
            click.echo(f"ledger verification FAILED at seq {chain['first_bad_seq']}: {chain['reason']}", err=True)
        if not verdict["projections"]["ok"]:
            tables = {name: t["differing"] for name, t in verdict["projections"]["tables"].items() if t["differing"]}
            click.echo("deep verification FAILED: stored projection rows differ from the log's: "
                       + ", ".join(f"{name} ({count})" for name, count in tables.items()), err=True)
        if not verdict["ok"]:
            sys.exit(1)
        return
    verdict = repo.verify()
    echo_json(verdict.to_dict())
    if not verdict.ok:
        click.echo(f"ledger verification FAILED at seq {verdict.first_bad_seq}: {verdict.reason}", err=True)
        sys.exit(1)


def _held_to_trusted(repo, trusted, ledger_keys) -> None:
    from services.ledger.domain.note import NoteError
    from services.ledger.tree_check import held_to, trusted_checkpoints

    try:
        _, kept = trusted_checkpoints(trusted, ledger_keys)
    except (OSError, ValueError, KeyError, NoteError) as exc:
        raise click.ClickException(str(exc)) from None
    problem = held_to(repo, kept, repo.head()[0])
    if problem:
        echo_json({"ok": False, "reason": problem})
        click.echo(f"ledger verification FAILED: {problem}", err=True)
        sys.exit(1)


@ledger.command("prove")
@click.argument("seq", type=click.IntRange(min=1, max=2**53 - 1))
def ledger_prove(seq):
    """Print event SEQ, its Merkle inclusion proof and the ledger's signed checkpoint, as JSON a
    third party checks offline (python3 verify_export.py --proof FILE --ledger-key KEY)."""
    from shared.clock import SystemClock

    from services.ledger.checkpoints import existing_signing_key
    from services.ledger.tree_check import inclusion_proof

    repo = ledger_repo(read_only=True)
    settings = Settings.from_env("ledger")
    key = existing_signing_key(settings.signing_key_file, settings.data_dir)
    if key is None:
        raise click.ClickException("no ledger signing key (ZEROCLEAR_LEDGER_SIGNING_KEY_FILE, or the data "
                                   f"folder's ledger-signing.json in {settings.data_dir}): nothing to sign the proof's checkpoint")
    head = repo.head()[0]
    if seq > head:
        raise click.ClickException(f"the log holds {head} events, not {seq}")
    echo_json(inclusion_proof(repo, key, seq, SystemClock()))


@ledger.command("replay")
@click.option("--as-of", "as_of", help="A sequence number or an ISO time (recording time); default: the head.")
@click.option("--from-export", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="Replay an export file instead of the database.")
@click.option("--digest-only", is_flag=True, help="Print the position and digest, not the projection.")
def ledger_replay(as_of, export_file, digest_only):
    """Rebuild the projections from the log as of a moment and print them with their digest."""
    from services.ledger.audit import (
        AsOf, AsOfError, checked_to_checkpoint, export_records, replay_database, replay_records,
    )

    try:
        point = AsOf.parse(as_of)
    except AsOfError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    if export_file:
        from services.ledger.replay_fast import UnreadableEvent

        try:
            with open(export_file, "rb") as handle:
                result = replay_records(export_records(handle), point)
        except UnreadableEvent as exc:
            raise click.ClickException(f"the export cannot be replayed: {exc}") from None
        if point == AsOf():  # the whole export: its end is held against its checkpoint too
            result = checked_to_checkpoint(result, export_file)
    else:
        result = replay_database(ledger_repo(read_only=True), point)
    output = result.summary()
    if not digest_only:
        output["projection"] = result.state.snapshot()
    echo_json(output)
    if not result.verdict.ok:
        sys.exit(1)


@ledger.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def ledger_export(file):
    """Write the log as JSON Lines with a checkpoint line (count, head hash); FILE "-" is the
    standard output (the checkpoint is then printed on the standard error)."""
    from shared.clock import SystemClock

    from services.ledger.export import export

    from services.ledger.checkpoints import existing_signing_key

    repo = ledger_repo(read_only=True)  # before the file is opened: nothing is made for a missing log
    settings = Settings.from_env("ledger")
    key = existing_signing_key(settings.signing_key_file, settings.data_dir)  # signs the checkpoint line
    if file == "-":
        checkpoint = export(repo, sys.stdout.buffer, SystemClock(), key)
        sys.stdout.buffer.flush()
        click.echo(json.dumps(checkpoint, ensure_ascii=False), err=True)
        return
    with open(file, "wb") as out:
        checkpoint = export(repo, out, SystemClock(), key)
    echo_json(checkpoint)
    click.echo(f"check it with:  python3 {_verifier_path()} {file}", err=True)


@ledger.group("snapshots")
def ledger_snapshots():
    """Snapshots of the projections: each the digest of the projection rows valid at a log
    position (the ledger worker takes one every ZEROCLEAR_LEDGER_SNAPSHOT_EVENTS events)."""


def _snapshot_dict(snapshot) -> dict:
    return {"seq": snapshot.seq, "digest": snapshot.digest, "taken_at": snapshot.taken_at}


@ledger_snapshots.command("list")
@click.option("--after", type=click.IntRange(0, 2**53 - 1), default=0, help="Only those after this seq.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def snapshots_list(after, limit):
    """List the snapshots in seq order."""
    from services.ledger import snapshots

    echo_json([_snapshot_dict(s) for s in snapshots.listed(ledger_repo(read_only=True).engine, after=after,
                                                              limit=limit)])


@ledger_snapshots.command("verify")
def snapshots_verify():
    """Replay the log once and hold every snapshot's digest against the replayed state's at its
    position; exit status 1 naming the first that differs."""
    from services.ledger import snapshots

    verdict = snapshots.verify(ledger_repo(read_only=True).engine)
    echo_json(verdict)
    if not verdict["ok"]:
        click.echo(f"snapshot verification FAILED at seq {verdict['first_bad']['seq']}", err=True)
        sys.exit(1)


@ledger_snapshots.command("take")
def snapshots_take():
    """Take a snapshot at the head of the log now (none if one stands there already)."""
    from services.ledger import snapshots

    taken = snapshots.take(ledger_repo(read_only=True).engine, _business_clock())
    echo_json({"taken": _snapshot_dict(taken) if taken is not None else None})


@ledger_snapshots.command("drop")
@click.option("--yes", is_flag=True, help="Do drop them (they are made again from the log: take, or the worker).")
def snapshots_drop(yes):
    """Drop every snapshot."""
    from services.ledger import snapshots

    if not yes:
        raise click.UsageError("dropping every snapshot needs --yes")
    echo_json({"dropped": snapshots.drop(ledger_repo(read_only=True).engine)})


def _business_clock():
    from shared.clock import business_clock

    settings = Settings.from_env("ledger")
    return business_clock(settings.mode, settings.data_dir)


@ledger.group("projections")
def ledger_projections():
    """The projections (the rows every read is served from), derived from the log."""


@ledger_projections.command("rebuild")
def projections_rebuild():
    """Make every projection row again from the log, every version of it (what the ledger does
    when their shape changes): verified event by event, in one transaction holding the append
    lock (writes wait meanwhile); nothing changes unless the whole log verifies (exit status 1)."""
    verdict = ledger_repo(read_only=True).rebuild_projections()
    echo_json(verdict.to_dict())
    if not verdict.ok:
        click.echo(f"projections NOT rebuilt: the log does not verify at seq {verdict.first_bad_seq}: {verdict.reason}",
                   err=True)
        sys.exit(1)


def _verifier_path() -> Path:
    import services.ledger

    return Path(services.ledger.__file__).with_name("verify_export.py")


@ledger.command("verifier")
def ledger_verifier():
    """Print the standalone export verifier (standard library only, one file) to hand to an auditor."""
    from services.ledger.verifier_bundle import standalone_verifier

    click.echo(standalone_verifier(), nl=False)


ledger.add_command(signing_key)
