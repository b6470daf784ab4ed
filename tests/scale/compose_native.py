"""Running compose.yaml's application services natively: compose's interpolation, the translation of what a
container has and a host lacks, and the running stack (used by test_compose_stack.py)."""
from __future__ import annotations

import graphlib
import ipaddress
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from tests.scale.stack import ROOT, free_port, wait_for_port

POSTGRES_URL = os.environ.get("ACADEMY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL")
COMPOSE, DOCKERFILE = ROOT / "compose.yaml", ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
VARIABLES = {"POSTGRES_PASSWORD": "compose-test-password", "ACADEMY_SECRET_KEY": "compose-test-key-for-every-instance"}
ADMIN_PASSWORD = "compose-admin-password"
PARTITION, TRAINEE_AE = "COMPOSE", "TRAINEE"
NATIVE_IMAGES = {"postgres": "postgres:", "redis": "redis:"}  # services this machine runs itself
SERVICE_KEYS = {"build", "image", "restart", "volumes", "networks", "environment", "command", "ports", "depends_on",
                "healthcheck"}
VOLUME = "academy-data:/data"
STOP_GRACE = 10  # seconds: `docker stop`'s default before SIGKILL

slow = pytest.mark.slow


class ComposeError(Exception):
    """compose.yaml says something compose refuses, or something this test cannot run natively."""


# --- interpolation, as compose does it before anything runs -----------------------------------------------------

REFERENCE = re.compile(r"\$(?:(?P<escaped>\$)|(?P<named>[_a-zA-Z][_a-zA-Z0-9]*)|\{(?P<braced>[^}]*)\}|(?P<invalid>))")
BRACED = re.compile(r"(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-?])(?P<arg>.*))?", re.S)


def interpolate(value, variables: dict):
    """Substitute $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message} and $$ in every
    string, so the test sees the values compose would pass."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if isinstance(value, str):
        return REFERENCE.sub(lambda match: substitute(match, variables), value)
    return value


def substitute(match: re.Match, variables: dict) -> str:
    """One reference; a missing required variable raises with compose's own message."""
    if match["escaped"]:
        return "$"
    if match["named"]:
        return variables.get(match["named"], "")
    braced = BRACED.fullmatch(match["braced"] or "")
    if match["invalid"] is not None or braced is None or "${" in match["braced"]:
        raise ComposeError(f"Invalid template: {match.string!r}")
    name, op, arg = braced["name"], braced["op"], braced["arg"]
    value = variables.get(name)
    unset = value is None or (op or "").startswith(":") and value == ""
    if op in (":-", "-"):
        return arg if unset else value
    if op in (":?", "?") and unset:
        raise ComposeError(f"required variable {name} is missing a value: {arg}")
    return value or ""


def load_compose(variables: dict) -> dict:
    """compose.yaml as compose sees it: anchors and `<<` merges resolved by PyYAML, then interpolated."""
    return interpolate(yaml.safe_load(COMPOSE.read_text()), variables)


# --- the image --------------------------------------------------------------------------------------------------

def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def image_env() -> dict:
    """The image's ENV: every container starts with it before the service's environment."""
    env = {}
    for line in dockerfile_lines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                key, sep, value = item.partition("=")
                if not sep:
                    raise ComposeError(f"Dockerfile ENV form not understood: {line}")
                env[key] = value
    return env


# --- what this machine has in place of the compose network, the volume and the published ports ------------------

@dataclass
class Native:
    """compose.yaml (interpolated) and what this machine puts where a container would have its own things."""

    compose: dict
    database_url: str
    redis_url: str
    data_dir: Path
    home: Path
    services: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)

    def port(self, service: str, container_port: int) -> int:
        """The host port standing in for `service`'s container port; a port compose does not publish fails."""
        try:
            return self.ports[(service, int(container_port))]
        except (KeyError, ValueError):
            raise ComposeError(f"{service} does not publish port {container_port}: no host port stands in for it")


def app_services(compose: dict) -> dict:
    """The services built from this repository's Dockerfile; the others must be ones this machine provides."""
    services = {}
    for name, service in compose["services"].items():
        if unknown := set(service) - SERVICE_KEYS:
            raise ComposeError(f"{name}: keys {sorted(unknown)} are not understood by this test")
        if service.get("build") == ".":
            check_volumes(name, service, compose)
            check_network(name, service, compose)
            services[name] = service
        elif not str(service.get("image", "")).startswith(NATIVE_IMAGES.get(name, "\0")):
            raise ComposeError(f"{name}: image {service.get('image')!r} is neither built here nor provided natively")
    return services


def check_volumes(name: str, service: dict, compose: dict) -> None:
    """Every app service mounts the one named volume at /data, which a shared tmp dir stands in for."""
    if service.get("volumes") != [VOLUME] or VOLUME.split(":")[0] not in (compose.get("volumes") or {}):
        raise ComposeError(f"{name}: volumes {service.get('volumes')} are not the shared {VOLUME}")


def check_network(name: str, service: dict, compose: dict) -> None:
    """Every app service is on the one compose network, the one SANDBOX_ALLOWED_NETWORKS is checked against."""
    if service.get("networks") != list(compose.get("networks") or {}) or len(compose["networks"]) != 1:
        raise ComposeError(f"{name}: networks {service.get('networks')} are not the one compose network")


PORT_SPEC = re.compile(r"(?:(?P<ip>[\d.]+):)?(?P<host>\d+):(?P<container>\d+)")


def published_ports(services: dict) -> dict:
    """A free 127.0.0.1 port for each published container port: both sites listen on 8000 inside their containers,
    which one host cannot do."""
    ports, host_side = {}, []
    for name, service in services.items():
        for spec in service.get("ports", []):
            match = PORT_SPEC.fullmatch(str(spec))
            if match is None:
                raise ComposeError(f"{name}: port mapping {spec!r} not understood")
            host_side.append((match["ip"] or "0.0.0.0", match["host"]))
            taken = set(ports.values())
            ports[(name, int(match["container"]))] = next(p for p in iter(free_port, None) if p not in taken)
    if len(set(host_side)) != len(host_side):
        raise ComposeError(f"two services publish the same host port: {host_side}")
    return ports


def translate_database_url(url: str, native: Native) -> str:
    """The `postgres` service's database -> the test's fresh database (its user, password, host, name), keeping
    compose's scheme and driver. The URL must carry the credentials the postgres service is created with."""
    import sqlalchemy as sa

    parsed, postgres = sa.engine.make_url(url), native.compose["services"]["postgres"]["environment"]
    expected = (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], 5432, postgres["POSTGRES_DB"])
    if (parsed.username, parsed.password, parsed.port or 5432, parsed.database) != expected:
        raise ComposeError(f"database URL {parsed!r} does not match the postgres service's user/password/database")
    local = sa.engine.make_url(native.database_url).set(drivername=parsed.drivername)
    return local.render_as_string(hide_password=False)


def translate_redis_url(url: str, native: Native) -> str:
    """The `redis` service -> the test's Redis (its database number too, so tests stay out of the host's db 0)."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or (parts.port or 6379) != 6379:
        raise ComposeError(f"Redis URL {url!r} not understood")
    return native.redis_url


def translate_url(url: str, service: str | None, native: Native) -> str:
    """A URL naming a compose service, or the container's own loopback -> where that service is on this host."""
    parts = urlsplit(url)
    if parts.hostname == "postgres":
        return translate_database_url(url, native)
    if parts.hostname == "redis":
        return translate_redis_url(url, native)
    owner = service if parts.hostname in ("127.0.0.1", "localhost") else parts.hostname
    if owner not in native.services or parts.username or parts.port is None:
        raise ComposeError(f"URL {url!r} names no service this test runs")
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{native.port(owner, parts.port)}"))


def translate_hostname(name: str, native: Native) -> str:
    """Compose's DNS name of an app service -> 127.0.0.1, where every app service runs here."""
    if name not in native.services:
        raise ComposeError(f"host {name!r} is no service this test runs")
    return "127.0.0.1"


def translate_listen_address(address: str, service: str, native: Native) -> str:
    """0.0.0.0[:port] -- all of a container's own interfaces -> 127.0.0.1[:the host port for that container port]:
    the container's interfaces are private to its network; the host's are not."""
    host, sep, port = address.partition(":")
    if host != "0.0.0.0":
        raise ComposeError(f"{service}: listen address {address!r} not understood")
    return f"127.0.0.1:{native.port(service, port)}" if sep else "127.0.0.1"


def translate_path(path: str, native: Native) -> str:
    """/data, the academy-data named volume every app service mounts -> one tmp dir they all share."""
    if not PurePosixPath(path).is_relative_to("/data"):
        raise ComposeError(f"path {path!r} is outside the /data volume")
    return str(native.data_dir / PurePosixPath(path).relative_to("/data"))


def check_allowed_networks(value: str, native: Native) -> str:
    """Kept as is: it must admit the compose network the sites reach the sandbox over; here they reach it over
    loopback, which sandbox/netpolicy.py always allows."""
    allowed = [ipaddress.ip_network(n.strip()) for n in value.split(",") if n.strip()]
    network = next(iter(native.compose["networks"].values())) or {}
    if not (subnets := [config["subnet"] for config in (network.get("ipam") or {}).get("config", [])]):
        raise ComposeError("the compose network has no fixed subnet: SANDBOX_ALLOWED_NETWORKS cannot name it")
    for subnet in map(ipaddress.ip_network, subnets):
        if not any(subnet.subnet_of(net) for net in allowed if net.version == subnet.version):
            raise ComposeError(f"SANDBOX_ALLOWED_NETWORKS {value!r} does not admit the compose network {subnet}")
    return value


ENVIRONMENT = {
    "ACADEMY_DATA_DIR": lambda value, env, native: translate_path(value, native),
    "ACADEMY_DATABASE_URL": lambda value, env, native: translate_url(value, None, native),
    "ACADEMY_SANDBOX_DATABASE_URL": lambda value, env, native: translate_url(value, None, native),
    "ACADEMY_RATELIMIT_STORAGE_URL": lambda value, env, native: translate_url(value, None, native),
    "ACADEMY_SANDBOX_HOST": lambda value, env, native: translate_hostname(value, native),
    # ports of the service ACADEMY_SANDBOX_HOST names, so they move with that service's own listeners
    "ACADEMY_DICOM_PORT": lambda value, env, native: str(native.port(env.get("ACADEMY_SANDBOX_HOST"), value)),
    "ACADEMY_HL7_PORT": lambda value, env, native: str(native.port(env.get("ACADEMY_SANDBOX_HOST"), value)),
    "SANDBOX_ALLOWED_NETWORKS": lambda value, env, native: check_allowed_networks(value, native),
}
VERBATIM = {"ACADEMY_SECRET_KEY", "ACADEMY_PUBLIC_URL", "ACADEMY_HTTPS", "ACADEMY_PROXY_FIX",
            "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"}


def translate_environment(environment: dict, native: Native) -> dict:
    """A container's environment on this host, variable by variable; a variable the test does not know fails."""
    if not isinstance(environment, dict):
        raise ComposeError(f"environment {environment!r} not understood (a mapping is)")
    translated = {}
    for key, value in environment.items():
        if key not in VERBATIM and key not in ENVIRONMENT:
            raise ComposeError(f"environment variable {key} has no native translation in this test")
        value = "" if value is None else str(value)
        translated[key] = value if key in VERBATIM else ENVIRONMENT[key](value, environment, native)
    return translated


URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+")


def translate_argument(token: str, previous: str | None, service: str, native: Native) -> str:
    """One argument of a command: listen addresses, container ports, /data paths and URLs (also inside code)."""
    if previous in ("-b", "--bind", "--host"):
        return translate_listen_address(token, service, native)
    if previous and previous.endswith("-port"):
        return str(native.port(service, token))
    if token == "/data" or token.startswith("/data/"):
        return translate_path(token, native)
    return URL.sub(lambda match: translate_url(match.group(0), service, native), token)


def leftovers(value: str, native: Native) -> list[str]:
    """Container-only values still present after translation: these would not work (or not mean the same) here."""
    names = "|".join(map(re.escape, native.compose["services"]))
    container_ports = "|".join(str(port) for _, port in native.ports)
    patterns = [r"(?<![\w.])/data\b", r"0\.0\.0\.0", rf"(?://|@)(?:{names})(?=[:/]|$)",
                rf"(?<![\d.])(?:{container_ports})(?!\d)"]
    return [match.group(0) for pattern in patterns for match in re.finditer(pattern, value)]


def translate_command(argv: list, service: str, native: Native) -> list[str]:
    """A service's command with container-only values translated; anything container-only left fails the test."""
    if not isinstance(argv, list):
        raise ComposeError(f"{service}: command {argv!r} not understood (the exec form, a list, is)")
    translated = [translate_argument(str(token), previous, service, native)
                  for previous, token in zip([None, *argv], argv)]
    if left := [found for token in translated for found in leftovers(token, native)]:
        raise ComposeError(f"{service}: {left} left untranslated in {translated}")
    return translated


def healthcheck_command(service: str, native: Native) -> list[str]:
    """The service's healthcheck test as a command (CMD: exec form; CMD-SHELL: through sh -c)."""
    test = native.services[service]["healthcheck"]["test"]
    if test[0] == "CMD":
        return translate_command(test[1:], service, native)
    if test[0] == "CMD-SHELL" and len(test) == 2:
        return translate_command(["sh", "-c", test[1]], service, native)
    raise ComposeError(f"{service}: healthcheck test {test!r} not understood")


def process_env(service: str, native: Native) -> dict:
    """What the container's processes see: the image's ENV, then the service's environment, translated; the host's
    own environment stays out except PATH (this venv's bin first, as the image's Python is)."""
    environment = translate_environment({**image_env(), **native.services[service].get("environment", {})}, native)
    for key, value in environment.items():
        if left := leftovers(value, native):
            raise ComposeError(f"{service}: {key}={value!r} keeps {left}")
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(native.home),
            "LANG": "C.UTF-8", **environment}


def make_native(variables: dict, database_url: str, redis_url: str, tmp: Path) -> Native:
    """compose.yaml loaded and checked, with this machine's stand-ins for what containers would have."""
    compose = load_compose(variables)
    services = app_services(compose)
    native = Native(compose, database_url, redis_url, tmp / "data", tmp / "home", services, published_ports(services))
    native.data_dir.mkdir(parents=True, exist_ok=True)
    native.home.mkdir(parents=True, exist_ok=True)
    return native


# --- running the services in compose's order ----------------------------------------------------------------------

def dependencies(service: dict) -> dict:
    """depends_on as {service: condition}; the short (list) form means service_started."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {name: spec["condition"] for name, spec in depends.items()}


def start_order(services: dict) -> list[str]:
    """Compose's start order: each service after those it depends on, ties in file order."""
    sorter = graphlib.TopologicalSorter({name: [d for d in dependencies(s) if d in services]
                                         for name, s in services.items()})
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=list(services).index)
        order += ready
        sorter.done(*ready)
    return order


def native_healthy(name: str) -> None:
    """service_healthy for the services this machine provides: PostgreSQL and Redis answer."""
    if name == "postgres":
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    elif name == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    else:
        raise ComposeError(f"no native health check for {name}")


class Stack:
    """The app services run as compose would: in dependency order, each with its translated command and
    environment, cwd the repository (the image's WORKDIR /app holds the same files), its output in a log file."""

    def __init__(self, native: Native, logs: Path):
        self.native, self.logs, self.processes = native, logs, {}
        logs.mkdir(parents=True, exist_ok=True)

    def up(self) -> None:
        for name in start_order(self.native.services):
            for dependency, condition in dependencies(self.native.services[name]).items():
                self.await_condition(dependency, condition)
            self.processes[name] = self.start(name)

    def start(self, name: str) -> subprocess.Popen:
        argv = translate_command(self.native.services[name]["command"], name, self.native)
        with open(self.logs / f"{name}.log", "w") as log:
            return subprocess.Popen(argv, cwd=ROOT, env=process_env(name, self.native), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def await_condition(self, dependency: str, condition: str) -> None:
        """Honour one depends_on condition before starting the service that has it."""
        if dependency not in self.native.services:
            if condition != "service_healthy":
                raise ComposeError(f"{dependency}: condition {condition} not understood for a native service")
            native_healthy(dependency)
        elif condition == "service_completed_successfully":
            status = self.processes[dependency].wait(timeout=120)
            assert status == 0, f"{dependency} exited {status}:\n{self.log(dependency)}"
        elif condition == "service_started":
            assert dependency in self.processes, f"{dependency} was not started"
        elif condition == "service_healthy":
            self.await_healthy(dependency)
        else:
            raise ComposeError(f"depends_on condition {condition} not understood")

    def await_healthy(self, name: str, seconds: float = 60) -> None:
        """service_healthy: the service's own healthcheck command passes (tried once the port answers at all)."""
        deadline = time.monotonic() + seconds
        for port in {port for (service, _), port in self.native.ports.items() if service == name}:
            wait_for_port(port, seconds)
        while (result := self.run(healthcheck_command(name, self.native), name)).returncode != 0:
            assert time.monotonic() < deadline, f"{name} unhealthy: {self.output(result)}\n{self.log(name)}"
            time.sleep(0.5)

    def run(self, argv: list[str], service: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """A one-off command in a service's environment, as `docker compose run --rm SERVICE ...`."""
        return subprocess.run(argv, cwd=ROOT, env=process_env(service, self.native), input=stdin, text=True,
                              capture_output=True, timeout=60)

    @staticmethod
    def output(result: subprocess.CompletedProcess, lines: int = 30) -> str:
        """The end of a one-off command's output, for a failure message."""
        return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])

    def log(self, name: str, lines: int = 40) -> str:
        return "\n".join((self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])

    def down(self) -> dict:
        """Stop like `docker compose down`: SIGTERM to each service's process, dependents first (sent all at once:
        nothing here needs the wait in between), the grace period, then SIGKILL; returns the exit statuses. Each
        process group is killed last, so nothing (gunicorn workers, the loop's sleep) outlives the test."""
        running = list(reversed(self.processes.items()))
        for _, process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline, statuses = time.monotonic() + STOP_GRACE, {}
        for name, process in running:
            try:
                statuses[name] = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                statuses[name] = "killed after the grace period"
        for _, process in running:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        return statuses


@contextmanager
def fresh_database():
    """A database of this run's own on the test PostgreSQL, dropped afterwards (with any connection left)."""
    import sqlalchemy as sa

    name = f"academy_compose_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
