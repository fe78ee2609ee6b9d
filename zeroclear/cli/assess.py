"""``zeroclear assess``: the assessment's scores recomputed from the service's read model or,
offline, from a ledger export checked first."""
from __future__ import annotations

import importlib
import sys

import click

from shared.config import Settings

from .common import echo_json, existing


@click.command()
@click.option("--year", type=int, required=True, help="The year assessed.")
@click.option("--from-export", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="Recompute offline from a ledger export (checked first) instead of the service's read model.")
@click.option("--as-of", "as_of", type=click.IntRange(0, 2**53 - 1), help="A log position (seq): the scores as the log stood then.")
@click.option("--cut-off", "cut_off", help="What counts as done in time (default: end of the acceptance stage).")
def assess(year, export_file, as_of, cut_off):
    """Score every region for a year (SPEC §6) and print the result with its digest: the same code
    the assessment service runs, so the digest equals the one it shows or published."""
    from shared.clock import format_instant, parse_instant
    from shared.reference import default_reference

    # By name, like the runner: the command line may know every service, the services not each other.
    campaign = importlib.import_module("services.assessment.domain.campaign")
    scoring = importlib.import_module("services.assessment.domain.scoring")
    CampaignState, score, default_cut_off = campaign.CampaignState, scoring.assess, scoring.default_cut_off

    reference = default_reference()
    try:
        cut = format_instant(parse_instant(cut_off)) if cut_off else default_cut_off(reference.calendar, year)
    except ValueError:
        raise click.BadParameter("an ISO time with a UTC offset", param_hint="--cut-off") from None
    state = CampaignState()
    if export_file:
        events = _checked_export_events(export_file, as_of)
        for event in events:
            try:
                state.apply(event)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                events.close()
                raise click.ClickException(
                    f"the export cannot be assessed: seq {event['seq']}: its chain verifies, but this {event['type']} "
                    f"event's payload is not one the ledger records ({type(exc).__name__}: {exc})") from None
    else:
        from shared.journal import EventJournal

        ledger_events = importlib.import_module("services.assessment.adapters.tables").ledger_events
        engine = existing(Settings.from_env("assessment").database_url, ledger_events.name,
                           "assessment read model")
        try:
            for event in EventJournal(engine, ledger_events).events(upto=as_of):
                state.apply(event)
        finally:
            engine.dispose()
    names = {code: region.name for code, region in reference.regions.items()}
    echo_json(score(state, year, cut_off=cut, names=names, weights=_weights()))


def _weights():
    import os

    try:
        return importlib.import_module("services.assessment.bootstrap").weights_from(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _checked_export_events(export_file: str, upto: int | None):
    """The events of an export up to ``upto``, each given only once the chain has verified to it;
    the rest of the chain is checked to the checkpoint line all the same, and if any of it fails
    the command stops with exit status 1 before anything is printed. The file is read as the
    standalone verifier reads it (``verify_export.export_lines``), in one pass, one line in memory
    at a time (an export may be larger than memory)."""
    import orjson

    from services.ledger.audit import against_checkpoint
    from services.ledger.domain.chain import ChainVerifier, Verdict
    from services.ledger.verify_export import CHECKPOINT, FormatError, export_lines
    from shared import canonical

    verifier, checkpoint, problem = ChainVerifier(), None, None
    with open(export_file, "rb") as handle:
        try:
            for _, kind, record in export_lines(handle, orjson.loads):
                if kind == CHECKPOINT:
                    checkpoint = record
                    continue
                payload = record.pop("payload")
                if not verifier.check(record, canonical.dumps(payload)):
                    break
                if upto is None or record["seq"] <= upto:
                    record["payload"] = payload
                    yield record
        except FormatError as exc:
            problem = str(exc)
        except (ValueError, TypeError) as exc:  # a payload canonical JSON cannot hold (a float): not hashed so
            problem = f"seq {verifier.count + 1}: {exc}"
    verdict = (Verdict(False, verifier.count, verifier.head, verifier.count + 1, problem) if problem is not None
               else against_checkpoint(verifier.finish(), checkpoint))
    if not verdict.ok:
        click.echo(f"the export does not verify: first bad seq {verdict.first_bad_seq} ({verdict.reason})", err=True)
        sys.exit(1)


@click.group("assessment")
def assessment():
    """The assessment's read model."""


@assessment.group("rows")
def assessment_rows():
    """Each region's scored rows the assessment keeps (made again from its journal when dropped)."""


@assessment_rows.command("verify")
def rows_verify():
    """Hold every kept row against the row scored afresh from the journal at the position it was
    made from (exit status 1 when one is not, naming it)."""
    scores = _regional_scores()
    try:
        verdict = scores.verify()
    finally:
        scores.engine.dispose()
    echo_json(verdict)
    if not verdict["ok"]:
        first = verdict["bad"][0]
        click.echo(f"kept rows verification FAILED: {first['region']} ({first['key']}): {first['reason']}", err=True)
        sys.exit(1)


@assessment_rows.command("drop")
@click.option("--yes", is_flag=True, help="Do drop them (the service scores them again from its journal).")
def rows_drop(yes):
    """Drop every kept row."""
    if not yes:
        raise click.UsageError("dropping every kept row needs --yes")
    scores = _regional_scores()
    try:
        echo_json({"dropped": scores.drop()})
    finally:
        scores.engine.dispose()


def _regional_scores():
    """The assessment's kept rows on its database (never created: see ``existing``)."""
    from shared.journal import EventJournal
    from shared.reference import default_reference

    tables = importlib.import_module("services.assessment.adapters.tables")
    regional = importlib.import_module("services.assessment.adapters.regional")
    engine = existing(Settings.from_env("assessment").database_url, tables.scored_rows.name, "assessment read model")
    names = {code: region.name for code, region in default_reference().regions.items()}
    return regional.RegionalScores(EventJournal(engine, tables.ledger_events), weights=_weights(), names=names)
