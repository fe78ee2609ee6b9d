"""docker-compose.yml and deploy/: valid against the compose specification, consistent with the
command line, the settings and the Dockerfile — and, without needing Docker (.ci/compose runs
the real thing where an engine is), its services' own commands and environment started as local
processes against the real RabbitMQ and PostgreSQL, provisioned as compose provisions them
(deploy/postgres/10-zeroclear.sh's roles, each service's own broker user), rewriting only what
must differ on a host: addresses, ports, /run/secrets, and names made unique to the test run."""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import click
import psycopg
import pytest
from ruamel.yaml import YAML

from shared.broker_admin import Rabbitmqctl, provision
from shared.config import BROKER_SERVICES, SERVICES, Settings
from shared.secret_settings import credentials
from shared.testing import data
from shared.testing.client import Api
from shared.testing.services import AMQP_URL, POSTGRES_ADMIN_URL, need
from shared.topology import Topology
from zeroclear.cli import main as cli_main
from zeroclear.services import parts

from .helpers import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
ROOT_DOCKERIGNORE = ROOT / ".dockerignore"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "10-zeroclear.sh"
MAKE_SECRETS = ROOT / "deploy" / "make-secrets.py"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
INFRASTRUCTURE = ("postgres", "rabbitmq", "prometheus", "grafana")
SECRETS = "/run/secrets/"


# -- reading the compose file as compose does --------------------------------------------------

class InterpolationError(ValueError):
    pass


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
    ``${VAR?error}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$``, over a whole document."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"], match["arg"]
        present, current = name in variables, variables.get(name, "")
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if present else arg
        if op == ":?" and not current or op == "?" and not present:
            raise InterpolationError(f"{name}: {arg}")
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return arg if present else ""
        return current

    return _VARIABLE.sub(substitute, value)


def variables_used(text: str) -> set[str]:
    return {m["braced"] or m["named"] for m in _VARIABLE.finditer(text) if not m["escaped"]}


def raw_compose() -> dict:
    return YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text(encoding="utf-8"))


def load_compose(variables: Mapping[str, str] | None = None) -> dict:
    return interpolate(raw_compose(), {} if variables is None else variables)


def app_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if name not in INFRASTRUCTURE}


def replicas(service: dict) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def api_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in app_services(compose).items() if s["command"][0] == "serve"}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def start_order(compose: dict) -> list[str]:
    """The services in an order that starts each after what it depends on (fails on a cycle)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        assert name not in visiting, f"depends_on cycle through {name}"
        visiting.add(name)
        for dep in depends_on(compose["services"][name]):
            assert dep in compose["services"], f"{name} depends on an unknown service {dep}"
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in compose["services"]:
        visit(name)
    return order


def init_databases() -> set[str]:
    """The databases the init script makes with its default prefix and services."""
    return {f"zeroclear_{name}" for name in (*SERVICES, "keys")}


def resolve_cli(args: list[str]) -> tuple[str, click.Command, list[str]]:
    """Walk ``zeroclear`` subcommands as click would; returns the leaf command and its arguments."""
    command: click.Command = cli_main
    path = ["zeroclear"]
    args = list(args)
    while isinstance(command, click.Group):
        assert args, f"`{' '.join(path)}` needs a subcommand"
        name = args.pop(0)
        assert name in command.commands, f"`{' '.join(path)}` has no subcommand {name!r}"
        command = command.commands[name]
        path.append(name)
    return " ".join(path), command, args


# -- the file itself -------------------------------------------------------------------------

def test_the_compose_file_is_valid_against_the_compose_spec_schema(tmp_path):
    """check-jsonschema vendors the compose-spec schema: validated offline."""
    def check(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                               str(path)], capture_output=True, text=True, timeout=120)

    result = check(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr

    # The check has teeth: an unknown depends_on condition is refused.
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "condition: service_healthy" in text
    broken.write_text(text.replace("condition: service_healthy", "condition: service_happy", 1), encoding="utf-8")
    assert check(broken).returncode != 0


def test_every_secret_is_a_file_made_by_make_secrets_and_none_is_a_variable(tmp_path):
    compose = load_compose()
    declared = compose["secrets"]
    made = tmp_path / "secrets"
    subprocess.run([sys.executable, str(MAKE_SECRETS), str(made)], check=True, capture_output=True)
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    for name, spec in declared.items():
        path = made / Path(spec["file"]).name
        assert spec["file"].startswith("./secrets/") and path.exists(), f"make-secrets.py makes no {path.name}"
    before = {p.name: p.read_bytes() for p in made.iterdir()}
    subprocess.run([sys.executable, str(MAKE_SECRETS), str(made)], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in made.iterdir()} == before, "running it again changes nothing"
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if key.endswith(("_PASSWORD", "_KEY", "_PASS")) or "PASSWORD" in key and not key.endswith("_FILE"):
                pytest.fail(f"{name}: {key} is a secret in a variable; mount a file and use {key}_FILE")
            if isinstance(value, str) and value.startswith(SECRETS):
                wanted = value[len(SECRETS):]
                mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
                assert wanted in mounted, f"{name}: {key} reads {value}, which it does not mount"
            if "://" in str(value):
                assert urlsplit(str(value)).password is None, f"{name}: {key} carries a password"
    # What a container reads from those files, production accepts.
    tips = json.loads((made / "tip_secrets.json").read_text())
    from services.intake.tips import load_tip_secrets

    assert load_tip_secrets(made / "tip_secrets.json", {}, production=True).signing_keys and tips["version"] == 2
    from services.ledger.checkpoints import load_key_file

    assert load_key_file(made / "ledger_signing.json").origin == "zeroclear.ledger"


def test_env_example_documents_every_variable_the_compose_file_reads():
    documented = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            documented[name.strip()] = value.strip()
    assert variables_used(COMPOSE_FILE.read_text(encoding="utf-8")) == set(documented)
    load_compose(documented)  # the example, copied to .env, is complete
    assert not {name for name in documented if "PASSWORD" in name or name.endswith("_KEY")}, "secrets are files"


def test_images_are_pinned_and_every_app_service_runs_the_one_image_built_by_deploy_dockerfile():
    compose = load_compose()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"
    apps = app_services(compose)
    assert {s["image"] for s in apps.values()} == {f"zeroclear:{version}"}
    builds = {json.dumps(s.get("build"), sort_keys=True) for s in apps.values()}
    assert len(builds) == 1, builds
    build = next(iter(apps.values()))["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    for name, service in apps.items():
        assert isinstance(service["command"], list), f"{name}: exec form, so the entrypoint gets the arguments as they are"
        assert "entrypoint" not in service, name
    assert compose["services"]["rabbitmq"]["image"].startswith("rabbitmq:4."), "3.10 is out of support"


def test_every_command_is_a_zeroclear_command_line_that_parses(monkeypatch):
    compose = load_compose()
    for name, service in app_services(compose).items():
        path, command, args = resolve_cli(service["command"])
        with monkeypatch.context() as env:
            for key, value in service.get("environment", {}).items():
                env.setenv(key, str(value))
            try:
                command.make_context(path, list(args))
            except click.ClickException as exc:
                pytest.fail(f"{name}: `{path} {' '.join(args)}` is refused by the CLI: {exc.format_message()}")
    commands = [tuple(s["command"]) for s in app_services(compose).values()]
    assert commands.count(("migrate",)) == 1 and commands.count(("broker", "provision")) == 1
    for service in SERVICES:  # every service's API, and every background worker there is
        assert commands.count(("serve", service)) == 1, service
        has_worker = parts(service).worker is not None
        assert commands.count(("worker", service)) == (1 if has_worker else 0), service


def test_app_services_start_after_healthy_infrastructure_and_finished_one_shots():
    compose = load_compose()
    services = compose["services"]
    start_order(compose)  # no cycle, no unknown service
    assert depends_on(services["migrate"]) == {"postgres": "service_healthy"}
    assert depends_on(services["broker-setup"]) == {"rabbitmq": "service_healthy"}
    for name in ("migrate", "broker-setup"):
        assert services[name].get("restart") == "no", "a one-shot must not be restarted once it has completed"
    for name, service in app_services(compose).items():
        if name in ("migrate", "broker-setup"):
            continue
        deps = depends_on(service)
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("rabbitmq") == "service_healthy", name
        assert deps.get("migrate") == "service_completed_successfully", name
        assert deps.get("broker-setup") == "service_completed_successfully", name
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            if condition == "service_healthy":
                assert "test" in services[dep].get("healthcheck", {}), f"{name} waits for {dep} to be healthy, which has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[dep].get("restart") == "no", dep


def test_healthchecks_ask_the_right_questions():
    compose = load_compose()
    services = compose["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["rabbitmq"]["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    for name, service in app_services(compose).items():
        if service.get("restart") == "no":
            continue
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], f"{name}: the image has python, not curl"
        assert "/health/ready" in test[3], name
        port = "ZEROCLEAR_PORT" if service["command"][0] == "serve" else "ZEROCLEAR_METRICS_PORT"
        assert port in test[3] and port in service["environment"], name


def test_the_settings_each_container_sees_give_each_service_its_own_role_database_and_broker_user(tmp_path):
    compose = load_compose()
    services = compose["services"]
    secrets_dir = tmp_path / "secrets"
    subprocess.run([sys.executable, str(MAKE_SECRETS), str(secrets_dir)], check=True, capture_output=True)
    databases = init_databases()
    seen: dict[str, tuple] = {}
    for name, service in app_services(compose).items():
        env = {k: str(v).replace(SECRETS, f"{secrets_dir}/") for k, v in service["environment"].items()}
        command = service["command"]
        if command[0] in ("serve", "worker"):
            svc = command[1]
            s = Settings.from_env(svc, env)  # production: it refuses anything weak
            assert (s.mode, s.host, s.log_format) == ("production", "0.0.0.0", "json"), name
            assert s.service_key == (secrets_dir / "service_key").read_text().strip()
            assert s.ledger_url == f"http://ledger-api:{services['ledger-api']['environment']['ZEROCLEAR_PORT']}"
            db, keys, broker = urlsplit(s.database_url), urlsplit(s.auth_database_url), urlsplit(s.broker_url)
            assert (db.username, db.path) == (f"zeroclear_{svc}", f"/zeroclear_{svc}"), name
            assert (keys.username, keys.path) == (f"zeroclear_{svc}", "/zeroclear_keys"), name
            assert db.password == (secrets_dir / f"db_{svc}_password").read_text().strip()
            if svc == "portal":  # no broker: a client of the APIs, its secret from a file
                assert s.service_urls["intake"] == "http://intake-api:8001" and s.secret, name
            else:
                assert (broker.username, broker.hostname, broker.path) == (f"zeroclear-{svc}", "rabbitmq", "/zeroclear")
                assert broker.password == (secrets_dir / f"amqp_{svc}_password").read_text().strip()
            assert db.path.lstrip("/") in databases
            seen.setdefault(svc, (s.database_url, s.broker_url))
            assert seen[svc] == (s.database_url, s.broker_url), f"{name}: its API and worker disagree"
            if svc == "intake":
                assert s.tip_secrets_file == secrets_dir / "tip_secrets.json"
            if svc == "ledger":
                assert s.signing_key_file == secrets_dir / "ledger_signing.json"
                assert s.inbox_senders == {p: f"zeroclear-{p}" for p in ("intake", "assessment", "notify")}
        elif command == ["migrate"]:
            for svc in SERVICES:
                s = Settings.from_env(svc, env)
                assert urlsplit(s.database_url).username == "zeroclear_owner", "migrations run as the owner"
    assert len({db for db, _ in seen.values()}) == len(SERVICES), "each service its own database"
    assert len({broker for svc, (_, broker) in seen.items() if svc != "portal"}) == len(SERVICES) - 1, \
        "each service with a broker its own broker user"
    assert "./deploy/postgres/10-zeroclear.sh:/docker-entrypoint-initdb.d/10-zeroclear.sh:ro" in services["postgres"]["volumes"]


def test_host_ports_and_bind_address_are_settings_and_the_workers_keep_their_replicas():
    compose = load_compose({"ZEROCLEAR_BIND_ADDRESS": "10.0.0.5", "ZEROCLEAR_INTAKE_HOST_PORT": "18001"})
    published = set()
    for name, service in api_services(compose).items():
        port = service["environment"]["ZEROCLEAR_PORT"]
        plain = {k: v for k, v in service["environment"].items() if not str(v).startswith(SECRETS)}
        assert Settings.from_env(service["command"][1], {**plain, "ZEROCLEAR_MODE": "embedded"}).port == int(port)
        (mapping,) = service["ports"]
        host_ip, host_port, container_port = mapping.split(":")
        assert container_port == port and host_ip == "10.0.0.5", f"{name}: {mapping}"
        published.add(int(host_port))
    assert 18001 in published and len(published) == len(api_services(compose))
    assert {p.split(":")[0] for p in api_services(load_compose())["intake-api"]["ports"]} == {"127.0.0.1"}
    for name, service in app_services(compose).items():
        if service["command"][0] == "worker":
            assert not {"ports", "container_name", "hostname"} & set(service), name
        assert "container_name" not in service, name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        assert service["logging"]["options"]["max-size"], "log rotation"
    assert replicas(compose["services"]["ledger-worker"]) == 2 and replicas(compose["services"]["intake-worker"]) == 2


def test_the_dockerfile_installs_the_lock_before_the_source_as_a_non_root_zeroclear_entrypoint():
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    froms = [line.split()[1] for line in instructions if line.upper().startswith("FROM ")]
    assert froms and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image) for image in froms), froms
    lock = next(i for i, line in enumerate(instructions) if "--require-hashes" in line and "main.lock" in line)
    source = next(i for i, line in enumerate(instructions) if line.startswith("COPY services/"))
    assert lock < source, "dependencies are installed before the source is copied"
    assert any(re.search(r"pip install --no-deps --no-build-isolation \.(\s|$)", line) for line in instructions)
    assert {"ARG PIP_INDEX_URL"} <= set(instructions)
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (entrypoint,) = [line for line in instructions if line.upper().startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.split(None, 1)[1]) == ["zeroclear"]

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["zeroclear"] == "zeroclear.cli:main"
    copied = set()
    for line in instructions:
        if line.startswith("COPY ") and "--from=" not in line:
            for source_path in line.split()[1:-1]:
                assert (ROOT / source_path).exists(), source_path
                copied.add(source_path.rstrip("/"))
    needed = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    needed |= {"pyproject.toml", pyproject["project"]["readme"], "requirements/main.lock"}
    assert needed <= copied, f"the build stage lacks {needed - copied}"
    assert ROOT_DOCKERIGNORE.read_text() == DOCKERIGNORE.read_text(), "the classic builder reads only the root one"
    kept = {line.lstrip("!").rstrip("/") for line in ROOT_DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
            if line.startswith("!")}
    assert copied <= kept, f".dockerignore hides {copied - kept} from the build"
    assert not kept & {".git", ".env", "secrets", "tests"}


def test_the_monitoring_profile_scrapes_every_api_and_worker_and_its_dashboard_asks_for_real_metrics():
    from ruamel.yaml import YAML as Yaml

    compose = load_compose()
    assert compose["services"]["prometheus"]["profiles"] == ["monitoring"]
    config = Yaml(typ="safe", pure=True).load((ROOT / "deploy" / "monitoring" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for c in job.get("static_configs", []) for t in c["targets"]}
    names = {n for job in config["scrape_configs"] for c in job.get("dns_sd_configs", []) for n in c["names"]}
    for name, service in app_services(compose).items():
        if service["command"][0] == "serve":
            assert f"{name}:{service['environment']['ZEROCLEAR_PORT']}" in targets, name
        if service["command"][0] == "worker":
            assert name in names, name
    dashboard = json.loads((ROOT / "deploy" / "monitoring" / "grafana" / "dashboards" / "zeroclear.json").read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    code = " ".join(p.read_text() for p in (ROOT / "shared").glob("*.py")) + \
        " ".join(p.read_text() for p in (ROOT / "services").glob("*/bootstrap.py"))
    for metric in set(re.findall(r"zeroclear_[a-z_]+", exprs)):
        base = re.sub(r"_(total|bucket|count|sum)$", "", metric)
        assert f'"{base}' in code, f"the dashboard asks for {metric}, which nothing exposes"

# -- the services' commands as local processes ------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (exit {self.popen.poll()}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class LocalCompose:
    """What `docker compose up` would do with the app services, as processes on this host: the
    secrets made by make-secrets.py (for /run/secrets), PostgreSQL's roles and databases made by
    the init script (under a prefix of this run's own), RabbitMQ provisioned as broker-setup does
    (through rabbitmqctl instead of the management API, in a vhost of this run's own)."""

    compose: dict
    workdir: Path
    stack: ExitStack
    tag: str
    ports: dict[tuple[str, int], int] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self):
        self.homes = self.stack.enter_context(tempfile.TemporaryDirectory(prefix="zc-"))
        self.secrets = self.workdir / "secrets"
        subprocess.run([sys.executable, str(MAKE_SECRETS), str(self.secrets)], check=True, capture_output=True)
        self.prefix = f"zcc_{self.tag}"
        self.vhost = f"zc-compose-{self.tag}"
        for name, service in app_services(self.compose).items():
            if "ZEROCLEAR_PORT" in service.get("environment", {}):
                self.ports[(name, int(service["environment"]["ZEROCLEAR_PORT"]))] = _free_port()

    # provisioning, as the postgres image's init and broker-setup do
    def provision(self) -> None:
        admin = psycopg.conninfo.conninfo_to_dict(POSTGRES_ADMIN_URL)
        env = {**os.environ, "ZEROCLEAR_DB_PREFIX": self.prefix, "ZEROCLEAR_SECRETS_DIR": str(self.secrets),
               "POSTGRES_USER": admin.get("user", "postgres"), "PGHOST": admin.get("host", "127.0.0.1"),
               "PGPORT": str(admin.get("port", 5432))}
        self.stack.callback(self._drop_databases)
        done = subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        setup = self.env("broker-setup")
        operator = Settings.from_env("cli", setup)
        ctl = Rabbitmqctl()
        admin_user, admin_password = credentials(operator.broker_url)
        self.stack.callback(ctl.delete, self.vhost, [admin_user, *(self._user(s) for s in SERVICES)])
        ctl.ensure_user(admin_user, admin_password, "administrator")
        provision(ctl, operator.broker_url, {s: Settings.from_env(s, setup).broker_url for s in BROKER_SERVICES}, Topology())

    def _drop_databases(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            for db in (*SERVICES, "keys"):
                conn.execute(f'DROP DATABASE IF EXISTS "{self.prefix}_{db}" WITH (FORCE)')
            for role in ("owner", *SERVICES):
                conn.execute(f'DROP ROLE IF EXISTS "{self.prefix}_{role}"')

    def _user(self, name: str) -> str:
        return f"zeroclear-{name}-{self.tag}"

    # the environment: compose's, with the host's addresses and this run's names
    def env(self, name: str, replica: int = 1) -> dict[str, str]:
        service = self.compose["services"][name]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCLEAR_", "XDG_RUNTIME_DIR"))}
        for key, value in service.get("environment", {}).items():
            env[key] = self._rewrite(name, key, str(value))
        if "ZEROCLEAR_METRICS_PORT" in env:  # each container has its own; here, each process
            env["ZEROCLEAR_METRICS_PORT"] = str(self.ports.setdefault((f"{name}#{replica}", 9100), _free_port()))
        env["ZEROCLEAR_DATA_DIR"] = str(self.workdir / "data")  # never the developer's own folder
        leftovers = {k: v for k, v in env.items() if k.startswith("ZEROCLEAR_") and _names_a_service(v, self.compose)}
        assert not leftovers, f"{name}: still pointing into the compose network: {leftovers}"
        return env

    def _rewrite(self, name: str, key: str, value: str) -> str:
        if key == "ZEROCLEAR_HOST":
            return "127.0.0.1"
        if key == "ZEROCLEAR_PORT":
            return str(self.ports[(name, int(value))])
        if value.startswith(SECRETS):
            return str(self.secrets / value[len(SECRETS):])
        if key.endswith("INBOX_SENDERS"):
            return re.sub(r"(zeroclear-[a-z]+)", lambda m: f"{m[1]}-{self.tag}", value)
        url = urlsplit(value)
        if url.scheme and url.hostname in self.compose["services"]:
            if url.scheme.startswith("postgres"):
                base = urlsplit(POSTGRES_ADMIN_URL)
                user = url.username.replace("zeroclear_", f"{self.prefix}_", 1)
                return url._replace(netloc=f"{user}@{base.hostname}:{base.port or 5432}",
                                    path=url.path.replace("/zeroclear_", f"/{self.prefix}_", 1)).geturl()
            if url.scheme.startswith("amqp"):
                host = urlsplit(AMQP_URL).netloc.rpartition("@")[2]
                return url._replace(netloc=f"{url.username}-{self.tag}@{host}", path=f"/{self.vhost}").geturl()
            if url.scheme == "http" and url.port == 15672:
                return value  # the management API: provisioning goes through rabbitmqctl here
            port = self.ports[(url.hostname, url.port)]
            return url._replace(netloc=f"127.0.0.1:{port}").geturl()
        return value

    def url(self, service: str) -> str:
        (port,) = [p for (name, _), p in self.ports.items() if name == service]
        return f"http://127.0.0.1:{port}"

    # running
    def start(self, name: str, replica: int = 1, fresh_home: bool = False) -> Process:
        command = [sys.executable, "-m", "zeroclear", *self.compose["services"][name]["command"]]
        log = self.workdir / "logs" / f"{name}-{replica}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # Each container has a home of its own, as in compose.
        home = Path(tempfile.mkdtemp(dir=self.homes, prefix=f"{name}-{replica}-"))
        with open(log, "wb") as out:
            popen = subprocess.Popen(command, env={**self.env(name, replica), "HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, start_new_session=True)
        process = Process(f"{name}-{replica}", popen, log)
        self.processes.append(process)
        return process

    def run_to_completion(self, name: str, timeout: float = 120) -> Process:
        process = self.start(name)
        try:
            process.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{name} did not finish in {timeout}s\n{process.tail()}") from None
        assert process.popen.returncode == 0, f"{name} failed\n{process.tail()}"
        return process

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        """Run the service's own healthcheck here until it passes, as docker would."""
        test = self.compose["services"][name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", test
        mine = [p for p in self.processes if p.name.startswith(name + "-")]
        for replica in range(1, replicas(self.compose["services"][name]) + 1):
            self._wait_healthy(name, replica, [sys.executable, *test[2:]], mine, timeout)

    def _wait_healthy(self, name: str, replica: int, command: list[str], mine: list, timeout: float) -> None:
        env = self.env(name, replica)
        deadline = time.monotonic() + timeout
        while True:
            if subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0:
                return
            dead = [p for p in mine if p.popen.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise AssertionError(f"{name} never became healthy\n" + "\n".join(p.tail() for p in mine))
            time.sleep(0.2)

    def up(self) -> None:
        """Start every app service after the conditions it depends on, like `docker compose up --wait`."""
        self.provision()
        for name in start_order(self.compose):
            service = self.compose["services"][name]
            if name in INFRASTRUCTURE or "profiles" in service:
                continue  # the local PostgreSQL and RabbitMQ: need() found them up
            if name == "broker-setup":
                self.processes.append(Process(f"{name}-1", subprocess.Popen(["true"]), self.workdir / "none"))
                self.processes[-1].popen.wait()
                continue  # provision() did what it does
            for dep, condition in depends_on(service).items():
                if dep in INFRASTRUCTURE or condition == "service_started":
                    continue
                if condition == "service_healthy":
                    self.wait_healthy(dep)
                elif condition == "service_completed_successfully":
                    assert any(p.name == f"{dep}-1" and p.popen.returncode == 0 for p in self.processes), dep
            if service.get("restart") == "no":
                self.run_to_completion(name)
            else:
                for replica in range(1, replicas(service) + 1):
                    self.start(name, replica)
        for name, service in self.compose["services"].items():
            if name not in INFRASTRUCTURE and "healthcheck" in service:
                self.wait_healthy(name)

    def recreate(self, name: str) -> None:
        """`docker compose up -d --force-recreate <name>`: its processes stopped, new ones started."""
        for p in [p for p in self.processes if p.name.startswith(name + "-") and p.popen.poll() is None]:
            p.popen.send_signal(signal.SIGTERM)
            p.popen.wait(30)
            self.processes.remove(p)
        for replica in range(1, replicas(self.compose["services"][name]) + 1):
            self.start(name, replica, fresh_home=True)
        self.wait_healthy(name)

    def cli(self, name: str, *args: str) -> subprocess.CompletedProcess:
        """`docker compose run --rm <name> <args>` / `docker compose exec <name> zeroclear <args>`."""
        result = subprocess.run([sys.executable, "-m", "zeroclear", *args], env=self.env(name), capture_output=True,
                                text=True, timeout=120, cwd=self.workdir)
        assert result.returncode == 0, f"zeroclear {' '.join(args)} exited {result.returncode}: {result.stderr}"
        return result

    def stop(self, timeout: float = 30) -> dict[str, int | None]:
        """SIGTERM, as `docker compose stop` sends; what has not exited by ``timeout`` is killed."""
        running = [p for p in self.processes if p.popen.poll() is None]
        for p in running:
            p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes = {}
        for p in running:
            try:
                codes[p.name] = p.popen.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                codes[p.name] = None
        self.kill()
        return codes

    def kill(self) -> None:
        for p in self.processes:
            try:
                os.killpg(p.popen.pid, signal.SIGKILL)  # its own session: the HTTP server's workers too
            except ProcessLookupError:
                pass
            p.popen.wait(10)

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes)


def _names_a_service(value: str, compose: dict) -> bool:
    host = urlsplit(value).hostname if "://" in value else None
    return host in compose["services"] and urlsplit(value).port != 15672


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.timeout(300)
def test_the_compose_services_run_as_local_processes_on_rabbitmq_and_postgres(tmp_path):
    need("postgres")
    need("rabbitmq")
    compose = load_compose()
    with ExitStack() as stack:
        host = LocalCompose(compose, tmp_path, stack, secrets.token_hex(4))
        try:
            host.up()
            migrated = next(p for p in host.processes if p.name == "migrate-1")
            assert "service key registered" in migrated.log.read_text()
            _file_and_audit(host, compose, (host.secrets / "service_key").read_text().strip())
            assert _niceness(host) == {"ledger-api": {19}, "ledger-worker": {0}, "intake-api": {0}, "intake-worker": {0},
                                       "assessment-api": {0}, "notify-api": {0}, "portal": {0}}
            codes = host.stop()
            assert all(code == 0 for code in codes.values()), f"not a clean stop on SIGTERM: {codes}\n{host.logs()}"
        except BaseException:
            print(host.logs())  # shown by pytest with the failure
            raise
        finally:
            host.kill()


def _niceness(host: LocalCompose) -> dict[str, set[int]]:
    """Each running service's CPU niceness, over its processes and the HTTP server's workers."""
    found: dict[str, set[int]] = {}
    for p in host.processes:
        name = p.name.rsplit("-", 1)[0]
        if p.popen.poll() is None and name in ("ledger-api", "ledger-worker", "intake-api", "intake-worker",
                                               "assessment-api", "notify-api", "portal"):
            for pid in [p.popen.pid, *_children(p.popen.pid)]:
                found.setdefault(name, set()).add(os.getpriority(os.PRIO_PROCESS, pid))
    return found


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(k) for k in (task / "children").read_text().split()]
    except FileNotFoundError:  # it has just exited
        return []
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def _file_and_audit(host: LocalCompose, compose: dict, service_key: str) -> None:
    urls = {s["command"][1]: host.url(name) for name, s in api_services(compose).items()}
    api = Api(urls)
    try:
        # the operator's keys, as `docker compose run --rm migrate keys add ...` makes them
        def key(*args: str) -> str:
            return host.cli("migrate", "keys", "add", *args).stdout.strip()

        zhengzhou = api.as_key(key("--role", "region", "--region", "410100"))
        jiyuan = api.as_key(key("--role", "region", "--region", "419001"))
        auditor = api.as_key(key("--role", "auditor"))

        form = zhengzhou.file_report(data.report("410100", entries=2), idempotency_key="compose-zz-2016")
        zero = jiyuan.file_report(data.report("419001", zero=True))
        assert form.status_code == 202, form.text
        assert zero.status_code == 202, zero.text
        recorded = [zhengzhou.wait_decided(form.json()["submission_id"], timeout=60),
                    jiyuan.wait_decided(zero.json()["submission_id"], timeout=60)]
        for submission in recorded:
            assert submission["status"] == "recorded", submission
            assert submission["seq"] >= 1 and len(submission["hash"]) == 64

        # the service key `migrate` registered opens the feed the intake worker follows
        assert api.as_key(service_key).get("ledger", "/v1/events", params={"limit": 1}).status_code == 200

        feed = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()
        assert [e["seq"] for e in feed["events"]] == list(range(1, feed["head_seq"] + 1))
        for submission in recorded:  # two relays and two ledger writers, still recorded once
            (event,) = [e for e in feed["events"] if e["id"] == submission["submission_id"]]
            assert (event["seq"], event["hash"]) == (submission["seq"], submission["hash"])
        filed = [e for e in feed["events"] if e["type"] == "intake.report_filed.v1"]
        assert sorted(e["region"] for e in filed) == ["410100", "419001"]

        registry = auditor.get("ledger", "/v1/reports", params={"year": 2016}).json()
        rows = {r["region"]: r for r in registry["regions"]}
        assert rows["410100"]["item_count"] == 2 and rows["419001"]["zero_report"] is True
        assert registry["filed"] == 2

        tip = api.post("intake", "/v1/tips", json={"region": "410100", "enterprise": "郑州某焦化厂", "location": "中牟县",
                                                   "description": "夜间偷偷生产"}).json()
        signing_key = api.get("intake", "/v1/tips/signing-key").json()
        host.recreate("intake-api")  # each container has its own home: secrets it made itself would be gone
        host.recreate("intake-worker")
        followed = api.post("intake", "/v1/tips/lookup", json={"receipt": tip["receipt"]})
        assert followed.status_code == 200 and followed.json()["tip_id"] == tip["tip_id"]
        assert api.get("intake", "/v1/tips/signing-key").json() == signing_key
        feed = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()

        verdict = api.get("ledger", "/v1/verify").json()
        assert {k: verdict[k] for k in ("ok", "count", "head")} == {"ok": True, "count": feed["head_seq"],
                                                          "head": feed["events"][-1]["hash"]}
        # `docker compose exec ledger-api zeroclear ledger verify`
        assert json.loads(host.cli("ledger-api", "ledger", "verify").stdout)["ok"] is True
    finally:
        api.session.close()
