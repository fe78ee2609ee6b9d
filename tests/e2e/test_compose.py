"""docker-compose.yml and deploy/: valid against the compose specification, consistent with the
command line, the settings and the Dockerfile — and, since no container can run on this machine,
its services' own commands and environment started as local processes against the real
RabbitMQ and PostgreSQL, rewriting only what must differ on a host (addresses, databases, ports,
and a topology prefix so that tests sharing one broker never meet)."""
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
import pytest
from ruamel.yaml import YAML

from shared.broker import Broker
from shared.config import SERVICES, Settings
from shared.testing import data
from shared.testing.client import Api
from shared.testing.services import AMQP_URL, fresh_postgres_database, need
from shared.topology import Topology
from zeroclear.cli import main as cli_main
from zeroclear.services import parts

from .helpers import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
INIT_SQL = ROOT / "deploy" / "postgres-init.sql"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
INFRASTRUCTURE = ("postgres", "rabbitmq")
SERVICE_KEY = "compose-test-service-key"
PORTAL_SECRET = "compose-test-portal-secret-of-some-length"
#: ``docker compose up --scale ...`` for the local run: workers are competing consumers.
SCALE = {"intake-worker": 2, "ledger-worker": 2}


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
    secrets_only = {"ZEROCLEAR_SERVICE_KEY": SERVICE_KEY, "ZEROCLEAR_PORTAL_SECRET": PORTAL_SECRET}
    return interpolate(raw_compose(), secrets_only if variables is None else variables)


def app_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if name not in INFRASTRUCTURE}


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
    return set(re.findall(r"^\s*CREATE DATABASE (\w+);", INIT_SQL.read_text(encoding="utf-8"), re.M))


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


def test_compose_refuses_to_start_without_a_service_key_or_the_portals_secret():
    with pytest.raises(InterpolationError, match="ZEROCLEAR_SERVICE_KEY"):
        load_compose({"ZEROCLEAR_PORTAL_SECRET": PORTAL_SECRET})
    with pytest.raises(InterpolationError, match="ZEROCLEAR_SERVICE_KEY"):
        load_compose({"ZEROCLEAR_SERVICE_KEY": "", "ZEROCLEAR_PORTAL_SECRET": PORTAL_SECRET})
    with pytest.raises(InterpolationError, match="ZEROCLEAR_PORTAL_SECRET"):
        load_compose({"ZEROCLEAR_SERVICE_KEY": SERVICE_KEY})


def test_env_example_documents_every_variable_the_compose_file_reads():
    documented = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            documented[name.strip()] = value.strip()
    assert variables_used(COMPOSE_FILE.read_text(encoding="utf-8")) == set(documented)
    compose = load_compose(documented)  # the example, copied to .env, is complete
    assert compose["services"]["migrate"]["environment"]["ZEROCLEAR_SERVICE_KEY"] == documented["ZEROCLEAR_SERVICE_KEY"]


def test_every_app_service_runs_the_one_image_built_by_deploy_dockerfile():
    compose = load_compose()
    apps = app_services(compose)
    assert set(apps) >= {"migrate", "ledger-api", "ledger-worker", "intake-api", "intake-worker",
                         "assessment-api", "notify-api"}
    images = {s.get("image") for s in apps.values()}
    builds = {json.dumps(s.get("build"), sort_keys=True) for s in apps.values()}
    assert len(images) == 1 and None not in images, images
    assert len(builds) == 1, builds
    build = next(iter(apps.values()))["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    for name, service in apps.items():
        assert isinstance(service["command"], list), f"{name}: exec form, so the entrypoint gets the arguments as they are"
        assert "entrypoint" not in service, name


def test_every_command_is_a_zeroclear_command_line_that_parses():
    compose = load_compose()
    for name, service in app_services(compose).items():
        path, command, args = resolve_cli(service["command"])
        try:
            command.make_context(path, list(args))
        except click.ClickException as exc:
            pytest.fail(f"{name}: `{path} {' '.join(args)}` is refused by the CLI: {exc.format_message()}")
    commands = [tuple(s["command"]) for s in app_services(compose).values()]
    assert commands.count(("migrate",)) == 1
    for service in SERVICES:  # every service's API, and every background worker there is
        assert commands.count(("serve", service)) == 1, service
        has_worker = parts(service).worker is not None
        assert commands.count(("worker", service)) == (1 if has_worker else 0), service


def test_app_services_start_after_healthy_infrastructure_and_a_finished_migration():
    compose = load_compose()
    services = compose["services"]
    start_order(compose)  # no cycle, no unknown service
    migrate = services["migrate"]
    assert depends_on(migrate) == {"postgres": "service_healthy"}
    assert migrate.get("restart") == "no", "a one-shot must not be restarted once it has completed"
    for name, service in app_services(compose).items():
        if name == "migrate":
            continue
        deps = depends_on(service)
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("rabbitmq") == "service_healthy", name
        assert deps.get("migrate") == "service_completed_successfully", name
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            if condition == "service_healthy":
                assert "test" in services[dep].get("healthcheck", {}), f"{name} waits for {dep} to be healthy, which has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[dep].get("restart") == "no", dep


def test_healthchecks_ask_the_right_questions():
    compose = load_compose()
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.10")
    assert services["rabbitmq"]["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    for name, service in api_services(compose).items():
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], f"{name}: the image has python, not curl"
        assert "/health/ready" in test[3], name


def test_the_settings_each_container_sees():
    variables = {"ZEROCLEAR_SERVICE_KEY": SERVICE_KEY, "ZEROCLEAR_DB_PASSWORD": "pgsecret1",
                 "ZEROCLEAR_AMQP_PASSWORD": "mqsecret2", "ZEROCLEAR_PORTAL_SECRET": PORTAL_SECRET}
    compose = load_compose(variables)
    services = compose["services"]
    pg_env, mq_env = services["postgres"]["environment"], services["rabbitmq"]["environment"]
    ledger_port = services["ledger-api"]["environment"]["ZEROCLEAR_PORT"]
    databases = init_databases()
    owned: dict[str, set[str]] = {}
    for name, service in app_services(compose).items():
        env = service["environment"]
        assert all(isinstance(v, str) for v in env.values()), f"{name}: quote every value"
        command = service["command"]
        for svc in [command[1]] if command[0] in ("serve", "worker") else list(SERVICES):
            s = Settings.from_env(svc, env)
            assert (s.mode, s.host, s.service_key) == ("production", "0.0.0.0", SERVICE_KEY), name
            assert s.ledger_url == f"http://ledger-api:{ledger_port}", name
            assert s.topology_prefix == "", name
            broker = urlsplit(s.broker_url)
            assert (broker.scheme, broker.hostname, broker.port) == ("amqp", "rabbitmq", 5672), name
            assert (broker.username, broker.password) == (mq_env["RABBITMQ_DEFAULT_USER"], mq_env["RABBITMQ_DEFAULT_PASS"])
            for url in (s.database_url, s.auth_database_url):
                db = urlsplit(url)
                assert (db.scheme, db.hostname, db.port) == ("postgresql", "postgres", 5432), f"{name}: {url}"
                assert (db.username, db.password) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"]), name
                assert db.path.lstrip("/") in databases, f"{name}: {url} is not created by {INIT_SQL.name}"
            owned.setdefault(svc, set()).add(urlsplit(s.database_url).path)
            owned.setdefault("keys", set()).add(urlsplit(s.auth_database_url).path)
    assert all(len(paths) == 1 for paths in owned.values()), f"containers disagree on a database: {owned}"
    used = {next(iter(p)).lstrip("/") for p in owned.values()}
    assert len(used) == len(SERVICES) + 1, "each service owns its database, and the keys have theirs"
    assert used == databases
    assert "./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/10-zeroclear.sql:ro" in services["postgres"]["volumes"]


def test_the_apis_publish_their_ports_and_the_workers_can_scale():
    compose = load_compose()
    published = set()
    for name, service in api_services(compose).items():
        port = service["environment"]["ZEROCLEAR_PORT"]
        assert Settings.from_env(service["command"][1], service["environment"]).port == int(port)
        (mapping,) = service["ports"]
        host_ip, host_port, container_port = mapping.split(":")
        assert container_port == port and host_port == port, f"{name}: {mapping}"
        assert host_ip == "127.0.0.1", "published on loopback unless ZEROCLEAR_BIND_ADDRESS says otherwise"
        published.add(int(port))
    assert len(published) == len(api_services(compose))
    for name, service in app_services(compose).items():
        if service["command"][0] == "worker":  # `docker compose up --scale <worker>=N`
            assert not {"ports", "container_name", "hostname"} & set(service), name
        assert "container_name" not in service, name


def test_the_dockerfile_installs_the_project_as_a_non_root_zeroclear_entrypoint():
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    froms = [line.split()[1] for line in instructions if line.upper().startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms), froms
    assert any(re.search(r"\bpip install \.(\s|$)", line) for line in instructions), "install the project, pinned in pyproject.toml"
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (entrypoint,) = [line for line in instructions if line.upper().startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.split(None, 1)[1]) == ["zeroclear"]

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["zeroclear"] == "zeroclear.cli:main"
    copied = set()
    for line in instructions:
        if line.upper().startswith("COPY ") and "--from=" not in line:
            sources = line.split()[1:-1]
            for source in sources:
                assert (ROOT / source).exists(), source
                copied.add(source.rstrip("/"))
    needed = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    needed |= {"pyproject.toml", pyproject["project"]["readme"]}
    assert needed <= copied, f"the build stage lacks {needed - copied}"
    kept = {line.lstrip("!").rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
            if line.startswith("!")}
    assert copied <= kept, f"{DOCKERIGNORE.name} hides {copied - kept} from the build"


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
    """What `docker compose up` would do with the app services, as processes on this host."""

    compose: dict
    workdir: Path
    stack: ExitStack
    prefix: str
    databases: dict[str, str] = field(default_factory=dict)
    ports: dict[tuple[str, int], int] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self):
        self.homes = self.stack.enter_context(tempfile.TemporaryDirectory(prefix="zc-"))
        for name, service in app_services(self.compose).items():
            if "ZEROCLEAR_PORT" in service.get("environment", {}):
                self.ports[(name, int(service["environment"]["ZEROCLEAR_PORT"]))] = _free_port()

    # the environment: compose's, with the host's addresses
    def env(self, name: str) -> dict[str, str]:
        service = self.compose["services"][name]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCLEAR_", "XDG_RUNTIME_DIR"))}
        for key, value in service.get("environment", {}).items():
            env[key] = self._rewrite(name, key, str(value))
        env["ZEROCLEAR_TOPOLOGY_PREFIX"] = self.prefix  # tests share one RabbitMQ
        env["ZEROCLEAR_DATA_DIR"] = str(self.workdir / "data")  # never the developer's own folder
        leftovers = {k: v for k, v in env.items() if k.startswith("ZEROCLEAR_") and _names_a_service(v, self.compose)}
        assert not leftovers, f"{name}: still pointing into the compose network: {leftovers}"
        return env

    def _rewrite(self, name: str, key: str, value: str) -> str:
        if key == "ZEROCLEAR_HOST":
            return "127.0.0.1"
        if key == "ZEROCLEAR_PORT":
            return str(self.ports[(name, int(value))])
        url = urlsplit(value)
        if url.scheme and url.hostname in self.compose["services"]:
            if url.scheme.startswith("postgres"):
                return self._database(url.path.lstrip("/"))
            if url.scheme.startswith("amqp"):
                return AMQP_URL
            port = self.ports[(url.hostname, url.port)]
            return url._replace(netloc=f"127.0.0.1:{port}").geturl()
        return value

    def _database(self, name: str) -> str:
        if name not in self.databases:
            self.databases[name] = self.stack.enter_context(fresh_postgres_database(f"zc_{name.removeprefix('zeroclear_')}"))
        return self.databases[name]

    def url(self, service: str) -> str:
        (port,) = [p for (name, _), p in self.ports.items() if name == service]
        return f"http://127.0.0.1:{port}"

    # running
    def start(self, name: str, replica: int = 1) -> Process:
        command = [sys.executable, "-m", "zeroclear", *self.compose["services"][name]["command"]]
        log = self.workdir / "logs" / f"{name}-{replica}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # Each container has a home of its own, as in compose.
        home = Path(self.homes) / f"{name}-{replica}"
        home.mkdir()
        with open(log, "wb") as out:
            popen = subprocess.Popen(command, env={**self.env(name), "HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT,
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
        command, env = [sys.executable, *test[2:]], self.env(name)
        mine = [p for p in self.processes if p.name.startswith(name + "-")]
        deadline = time.monotonic() + timeout
        while True:
            if subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0:
                return
            dead = [p for p in mine if p.popen.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise AssertionError(f"{name} never became healthy\n" + "\n".join(p.tail() for p in mine))
            time.sleep(0.2)

    def up(self, scale: Mapping[str, int]) -> None:
        """Start every app service after the conditions it depends on, like `docker compose up --wait`."""
        for name in start_order(self.compose):
            service = self.compose["services"][name]
            if name in INFRASTRUCTURE:
                continue  # the local PostgreSQL and RabbitMQ: need() found them up
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
                for replica in range(1, scale.get(name, 1) + 1):
                    self.start(name, replica)
        for name, service in self.compose["services"].items():
            if name not in INFRASTRUCTURE and "healthcheck" in service:
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
    return host in compose["services"]


def _delete_topology(prefix: str) -> None:
    topology = Topology(prefix)
    broker = Broker(AMQP_URL, topology)
    conn = broker.connect()
    try:
        broker.delete(conn, [topology.inbox_queue, topology.subscriber_queue("intake"),
                             topology.subscriber_queue("assessment"), topology.subscriber_queue("notify"),
                             topology.task_queue("notify")])
    finally:
        conn.release()


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.timeout(240)
def test_the_compose_services_run_as_local_processes_on_rabbitmq_and_postgres(tmp_path):
    need("postgres")
    need("rabbitmq")
    service_key = secrets.token_urlsafe(32)
    compose = load_compose({"ZEROCLEAR_SERVICE_KEY": service_key, "ZEROCLEAR_PORTAL_SECRET": PORTAL_SECRET})
    prefix = f"test-compose-{secrets.token_hex(4)}"
    with ExitStack() as stack:
        host = LocalCompose(compose, tmp_path, stack, prefix)
        try:
            host.up(SCALE)
            migrated = host.processes[0]
            assert migrated.name == "migrate-1" and "service key registered" in migrated.log.read_text()
            _file_and_audit(host, compose, service_key)
            codes = host.stop()
            assert all(code == 0 for code in codes.values()), f"not a clean stop on SIGTERM: {codes}\n{host.logs()}"
        except BaseException:
            print(host.logs())  # shown by pytest with the failure
            raise
        finally:
            host.kill()
            _delete_topology(prefix)


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

        verdict = api.get("ledger", "/v1/verify").json()
        assert verdict == {"ok": True, "count": feed["head_seq"], "head": feed["events"][-1]["hash"]}
        # `docker compose exec ledger-api zeroclear ledger verify`
        assert json.loads(host.cli("ledger-api", "ledger", "verify").stdout)["ok"] is True
        # the portal, its own process on its own database, shows the announcement notify serves
        home = api.session.get(urls["portal"] + "/", timeout=30)
        assert home.status_code == 200 and "淘汰落后产能" in home.text
    finally:
        api.session.close()
