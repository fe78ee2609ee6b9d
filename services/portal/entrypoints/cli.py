"""``zeroclear users``: the operator manages the people who sign in to the portal. Each person is
given an API key of their own (so the ledger records what they do under them); ``disable`` signs
them out everywhere and revokes that key. Passwords are read from a prompt, or one line of
standard input with ``--password-stdin``, never from the command line."""
from __future__ import annotations

import json
import sys

import click


def _handlers():
    from shared.config import Settings

    from ..bootstrap import bootstrap

    service = bootstrap(Settings.from_env("portal"))
    return service


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run(action):
    from ..domain.accounts import AccountError

    service = _handlers()
    try:
        return action(service)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    except Exception as exc:  # the key store refuses a region code it does not know, say
        if type(exc).__name__ == "KeyRequestError":
            raise click.UsageError(str(exc)) from None
        raise
    finally:
        service.close()
        service.keys.engine.dispose()


@click.group()
def users():
    """People who sign in to the portal (a password each, and an API key of their own)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["region", "department", "office", "auditor"]))
@click.option("--region", help="GB/T 2260 code, for a region's person.")
@click.option("--department", type=click.Choice(["industry", "environment", "development", "quality", "safety"]),
              help="For a department's person.")
@click.option("--display-name", default="", help="How the portal names them (e.g. 郑州市工信局 张三).")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
def users_add(name, role, region, department, display_name, password_stdin):
    """Add a person NAME (a-z, 0-9, '.', '_', '-')."""
    password = _password(password_stdin)
    user = _run(lambda s: s.handlers.add_user(name, password, role, region=region, department=department,
                                              display_name=display_name))
    click.echo(f"added {user.name} ({user.role}{'/' + user.scope if user.scope else ''}), key {user.key_id}: "
               f"what they file is recorded as {role}/{user.scope + '/' if user.scope else ''}{user.key_id}/user:{user.name}")


@users.command("list")
def users_list():
    """The people, never their passwords or keys."""
    click.echo(json.dumps(_run(lambda s: s.accounts.list()), ensure_ascii=False, indent=2))


@users.command("disable")
@click.argument("name")
def users_disable(name):
    """Sign NAME out everywhere, refuse their sign-ins and revoke their API key."""
    user = _run(lambda s: s.handlers.disable_user(name))
    click.echo(f"disabled {user.name}; key {user.key_id} revoked")


@users.command("reset")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from one line of standard input.")
def users_reset(name, password_stdin):
    """Give NAME a new password; it also lifts a lock and ends their sessions."""
    password = _password(password_stdin)
    user = _run(lambda s: s.handlers.reset_password(name, password))
    click.echo(f"reset {user.name}: new password set, lock lifted, sessions ended")
