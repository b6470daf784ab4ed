"""compose.yaml's application services, run natively with exactly their commands and environment.

No Docker here: each app service (init, sandbox, site1, site2, maintenance) runs its compose `command` with its
compose `environment` (plus the Dockerfile's ENV), interpolated as compose does, in compose's dependency order,
against this machine's PostgreSQL and Redis. Only what a container has and a host lacks is translated, each kind in
one function of compose_native.py: the service hostnames, the /data volume, the database's credentials, the container ports.
Anything else in compose.yaml that the translation does not understand fails the test, so a change to compose.yaml
cannot slip past it unchecked.
"""
from __future__ import annotations

import functools
import http.client
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.scale.compose_native import (
    ADMIN_PASSWORD, COMPOSE, PARTITION, POSTGRES_URL, REDIS_URL, STOP_GRACE, TRAINEE_AE, VARIABLES, ComposeError,
    Native, Stack, dockerfile_lines, fresh_database, healthcheck_command, interpolate, load_compose, make_native,
    process_env, slow, start_order, translate_command,
)
from tests.scale.stack import ROOT, Browser, wait_for_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not POSTGRES_URL:
        pytest.skip("ACADEMY_TEST_POSTGRES_URL is not set: no PostgreSQL for compose's services (CI sets it)")
    if not REDIS_URL:
        pytest.skip("ACADEMY_TEST_REDIS_URL is not set: no Redis for compose's services (CI sets it)")
    tmp = tmp_path_factory.mktemp("compose")
    with fresh_database() as database_url:
        running = Stack(make_native(VARIABLES, database_url, REDIS_URL, tmp), tmp / "logs")
        try:
            running.up()
            for name in running.processes:
                if "healthcheck" in running.native.services[name]:
                    running.await_healthy(name)
            yield running
        finally:
            statuses = running.down()
        # SIGTERM goes to the command's own process, as Docker sends it to PID 1: each must end itself, cleanly
        assert set(statuses.values()) == {0}, f"not stopped cleanly by SIGTERM within {STOP_GRACE} s: {statuses}"


# --- without Docker, PostgreSQL or Redis: the file and the translation ------------------------------------------

@pytest.mark.parametrize("missing, message", [
    ("POSTGRES_PASSWORD", "required variable POSTGRES_PASSWORD is missing a value: set POSTGRES_PASSWORD"),
    ("ACADEMY_SECRET_KEY", "required variable ACADEMY_SECRET_KEY is missing a value: "
                           "set ACADEMY_SECRET_KEY (one key for every instance)"),
])
@pytest.mark.parametrize("value", [None, ""])
def test_compose_refuses_to_start_without_the_secrets(missing, message, value):
    variables = {**VARIABLES, missing: value} if value is not None else \
        {k: v for k, v in VARIABLES.items() if k != missing}
    with pytest.raises(ComposeError) as error:
        load_compose(variables)
    assert str(error.value) == message


@pytest.mark.parametrize("template, variables, expected", [
    ("${A:-x}", {}, "x"), ("${A:-x}", {"A": ""}, "x"), ("${A-x}", {"A": ""}, ""), ("${A-x}", {"A": "a"}, "a"),
    ("${A?m}", {"A": ""}, ""), ("$$A and $A", {"A": "a"}, "$A and a"), ("${A}", {}, ""),
    ("x://u:${P:?p}@h/${D:-d}", {"P": "p"}, "x://u:p@h/d"),
])
def test_interpolation_follows_compose(template, variables, expected):
    assert interpolate(template, variables) == expected


@pytest.mark.parametrize("template", ["${A:+x}", "$1", "${A:-${B}}", "${}"])
def test_interpolation_refuses_what_it_does_not_implement(template):
    with pytest.raises(ComposeError):
        interpolate(template, {"A": "a", "B": "b"})


def offline_native(tmp_path: Path) -> Native:
    return make_native(VARIABLES, "postgresql://postgres@127.0.0.1:5432/academy_x", "redis://127.0.0.1:6379/15",
                       tmp_path)


def test_every_app_service_translates(tmp_path):
    native = offline_native(tmp_path)
    assert list(native.services) == ["init", "sandbox", "site1", "site2", "maintenance"]
    assert start_order(native.services)[:2] == ["init", "sandbox"]
    commands = {name: translate_command(s["command"], name, native) for name, s in native.services.items()}
    envs = {name: process_env(name, native) for name in native.services}
    sandbox, site1, site2 = commands["sandbox"], commands["site1"], commands["site2"]
    assert site1[site1.index("-b") + 1] != site2[site2.index("-b") + 1]
    for name, env in envs.items():
        assert env["ACADEMY_DICOM_PORT"] == sandbox[sandbox.index("--dicom-port") + 1], name
        assert env["ACADEMY_HL7_PORT"] == sandbox[sandbox.index("--hl7-port") + 1], name
        assert env["ACADEMY_DATABASE_URL"].startswith("postgresql+psycopg://postgres@127.0.0.1:5432/academy_x")
        assert env["ACADEMY_SANDBOX_DATABASE_URL"] == sandbox[sandbox.index("--database-url") + 1]
        assert Path(env["ACADEMY_DATA_DIR"]) / "sandbox" == Path(sandbox[sandbox.index("--data-dir") + 1])
    for site in ("site1", "site2"):
        assert f"127.0.0.1:{native.port(site, 8000)}/healthz" in healthcheck_command(site, native)[-1]


def edit_env(key, value):
    return lambda compose: compose["x-academy"]["environment"].__setitem__(key, value)


def edit_service(name, key, value):
    return lambda compose: compose["services"][name].__setitem__(key, value)


@pytest.mark.parametrize("edit", [
    pytest.param(edit_env("ACADEMY_NEW_SETTING", "x"), id="unknown-variable"),
    pytest.param(edit_env("ACADEMY_DATABASE_URL", "postgresql+psycopg://academy:wrong@postgres:5432/academy"),
                 id="database-password-not-postgres's"),
    pytest.param(edit_env("ACADEMY_RATELIMIT_STORAGE_URL", "redis://cache:6379/0"), id="unknown-host"),
    pytest.param(edit_env("ACADEMY_DICOM_PORT", "104"), id="port-the-sandbox-does-not-publish"),
    pytest.param(edit_env("SANDBOX_ALLOWED_NETWORKS", "10.0.0.0/8"), id="compose-network-not-allowed"),
    pytest.param(edit_service("sandbox", "command", ["python", "-m", "sandbox", "serve", "--dicom-port", "104"]),
                 id="sandbox-listens-on-unpublished-port"),
    pytest.param(edit_service("site1", "command", ["gunicorn", "-b", "0.0.0.0:9000", "app:create_app()"]),
                 id="site-binds-unpublished-port"),
    pytest.param(edit_service("site1", "command", ["sh", "-c", "gunicorn -b 0.0.0.0:8000 app:create_app()"]),
                 id="container-values-inside-a-shell-line"),
    pytest.param(edit_service("site1", "command", "gunicorn app:create_app()"), id="shell-form-command"),
    pytest.param(edit_service("site2", "ports", ["127.0.0.1:8001:8000"]), id="two-sites-one-host-port"),
    pytest.param(edit_service("maintenance", "volumes", ["academy-data:/srv"]), id="other-volume"),
    pytest.param(edit_service("maintenance", "env_file", ".env"), id="unknown-service-key"),
    pytest.param(edit_service("redis", "image", "valkey/valkey:8"), id="unknown-native-image"),
])
def test_a_compose_change_the_translation_does_not_understand_fails(edit, tmp_path, monkeypatch):
    original = yaml.safe_load

    def edited(text):
        compose = original(text)
        edit(compose)  # the app services share x-academy's environment object, as the anchor says
        return compose

    monkeypatch.setattr(yaml, "safe_load", edited)
    with pytest.raises(ComposeError):
        native = offline_native(tmp_path)
        for name, service in native.services.items():
            translate_command(service["command"], name, native)
            process_env(name, native)


def test_the_image_holds_what_the_commands_run():
    """The commands run with cwd = the repository because the image's WORKDIR /app gets these same files."""
    lines = dockerfile_lines()
    assert [line.split()[1] for line in lines if line.startswith("WORKDIR ")] == ["/app"]
    sources = [part for line in lines if line.startswith("COPY ") for part in line.split()[1:-1]]
    assert {"app.py", "academy", "sandbox", "migrations"} <= set(sources)
    assert all((ROOT / source).exists() for source in sources), sources


# --- the stack, running --------------------------------------------------------------------------------------------

def site_base(stack: Stack, name: str) -> str:
    return f"http://127.0.0.1:{stack.native.port(name, 8000)}"


@slow
@pytest.mark.parametrize("site", ["site1", "site2"])
def test_site_is_healthy_and_points_at_the_sandbox_service(stack, site):
    with urllib.request.urlopen(site_base(stack, site) + "/healthz", timeout=10) as response:
        assert response.status == 200
        health = json.load(response)
    assert health["status"] == "ok" and health["checks"]["database"] == "ok"
    # Every worker of a client of the sandbox service reports the service's address and their shared database
    # (academy/health.py); the listeners themselves are checked over DICOM and HL7 below.
    for _ in range(8):  # several requests, so several gunicorn workers answer
        with urllib.request.urlopen(site_base(stack, site) + "/healthz", timeout=10) as response:
            health = json.load(response)
        assert health["checks"]["sandbox"] == {"database": {"ok": True}}
        assert health["checks"]["sandbox_service"] == f"127.0.0.1:{stack.native.port('sandbox', 11112)}"


@slow
@pytest.mark.parametrize("site", ["site1", "site2"])
def test_compose_healthcheck_passes(stack, site):
    result = stack.run(healthcheck_command(site, stack.native), site)
    assert result.returncode == 0, stack.output(result)


class FromAddress(urllib.request.HTTPHandler):
    """Connect from a given loopback address (all of 127/8 is loopback on Linux)."""

    handler_order = 400  # before urllib's own HTTPHandler

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)


def browser(bases: list[str]) -> Browser:
    """A browser on a loopback address of its own: runs within 15 minutes do not share the per-address login
    limit kept in the test Redis."""
    client = Browser(bases)
    client.opener.add_handler(FromAddress("127." + ".".join(str(random.randint(1, 254)) for _ in range(3))))
    return client


def documented_user_create() -> tuple[str, list[str]]:
    """The service and command of compose.yaml's header line `docker compose run --rm SERVICE flask ... user create`."""
    match = re.search(r"^#\s+docker compose run --rm (\S+) (flask .*user create.*)$", COMPOSE.read_text(), re.M)
    assert match, "compose.yaml's header no longer documents creating the first user"
    return match[1], shlex.split(match[2])


@pytest.fixture(scope="module")
def admin(stack) -> str:
    """The first user, created the way compose.yaml's header says (the password on stdin instead of a prompt)."""
    service, argv = documented_user_create()
    email = f"compose-{uuid.uuid4().hex[:8]}@hospital.org"
    argv = [email if arg.endswith("@hospital.org") else arg for arg in argv] + ["--password-stdin"]
    created = stack.run(translate_command(argv, service, stack.native), service, stdin=ADMIN_PASSWORD + "\n")
    assert created.returncode == 0, stack.output(created)
    assert "site_admin" in created.stdout
    return email


def logged_in(bases: list[str], email: str) -> Browser:
    """Logged in on bases[0]; the form (and its CSRF token) came from the other site, the next page will too."""
    client = browser(bases)
    status, location = client.post("/login", {"email": email, "password": ADMIN_PASSWORD}, "/login")
    assert status == 302 and "/login" not in location, (bases[0], status, location)
    return client


@slow
def test_documented_admin_logs_in_on_both_sites(stack, admin):
    site1, site2 = site_base(stack, "site1"), site_base(stack, "site2")
    for bases in ([site1, site2], [site2, site1]):  # one secret key, one database, one Redis for both
        assert logged_in(bases, admin).get("/account/password")[0] == 200, bases


@slow
def test_a_site_echoes_the_sandbox_service_from_its_console(stack, admin):
    """The site opens a DICOM association to the sandbox service at ACADEMY_SANDBOX_HOST:ACADEMY_DICOM_PORT."""
    client = logged_in([site_base(stack, "site1"), site_base(stack, "site2")], admin)
    code = re.search(r"([A-Z0-9]{1,8})_PACS", client.get("/console/dicom")[1])[1]
    fields = {"csrf_token": client.token("/console/dicom"), "action": "echo", "echo-device": "WS",
              "echo-node": f"{code}_PACS"}
    request = urllib.request.Request(client.base() + "/console/dicom", data=urllib.parse.urlencode(fields).encode())
    with client.opener.open(request, timeout=60) as response:
        page = response.read().decode()
    assert 'border-success" id="result"' in page and "0x0000" in page, page[page.find('id="result"'):][:600]


def sandbox_cli(stack: Stack, *args: str) -> None:
    """`docker compose run --rm sandbox python -m sandbox ...`: the CLI finds the service's data by its environment."""
    result = stack.run(["python", "-m", "sandbox", *args], "sandbox")
    assert result.returncode == 0, stack.output(result)


def echoscu() -> str:
    """dcmtk's echoscu, an independent DICOM peer; skip without it (fail if ACADEMY_REQUIRE_DCMTK=1, as CI sets)."""
    path = shutil.which("echoscu")
    if path is None:
        if os.environ.get("ACADEMY_REQUIRE_DCMTK") == "1":
            pytest.fail("echoscu (dcmtk) is required (ACADEMY_REQUIRE_DCMTK=1) but missing")
        pytest.skip("echoscu (dcmtk) is not installed")
    return path


def echo(stack: Stack, called_ae: str) -> subprocess.CompletedProcess:
    port = stack.native.port("sandbox", 11112)
    return subprocess.run([echoscu(), "-aet", TRAINEE_AE, "-aec", called_ae, "127.0.0.1", str(port)],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "TCP_NODELAY": "1"})


@pytest.fixture(scope="module")
def partition(stack):
    sandbox_cli(stack, "partition", "create", PARTITION)
    return PARTITION


@slow
def test_dicom_echo_reaches_a_partition_of_the_sandbox_service(stack, partition):
    wait_for_port(stack.native.port("sandbox", 11112), seconds=20)
    unknown = echo(stack, "NOSUCH_PACS")
    assert unknown.returncode != 0 and "Called AE Title Not Recognized" in unknown.stdout + unknown.stderr
    stranger = echo(stack, f"{partition}_PACS")
    assert stranger.returncode != 0 and "Calling AE Title Not Recognized" in stranger.stdout + stranger.stderr
    sandbox_cli(stack, "node", "add", partition, TRAINEE_AE, "127.0.0.1", "104")  # seen without a restart
    known = echo(stack, f"{partition}_PACS")
    assert known.returncode == 0, known.stdout + known.stderr


@slow
def test_hl7_reaches_a_partition_of_the_sandbox_service(stack, partition):
    from sandbox.ris import mllp, samples
    from sandbox.ris.outbound import ack_code_of

    port = stack.native.port("sandbox", 2575)
    wait_for_port(port, seconds=20)
    ack = mllp.send("127.0.0.1", port, samples.adt(partition, "A04", samples.patient(1)))
    assert ack_code_of(ack) == "AA", ack


@slow
def test_maintenance_loop_runs_a_round(stack):
    deadline = time.monotonic() + 30
    while "exams_closed" not in stack.log("maintenance"):
        assert stack.processes["maintenance"].poll() is None, stack.log("maintenance")
        assert time.monotonic() < deadline, "no maintenance round within 30 s:\n" + stack.log("maintenance")
        time.sleep(0.3)
    assert "Traceback" not in stack.log("maintenance")
    assert stack.processes["maintenance"].poll() is None, "the loop ended after one round"
