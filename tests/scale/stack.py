"""The hospital deployment on one machine, shared by tests/scale and benchmarks/web_load.py: gunicorn site
instances and the sandbox service on one PostgreSQL (and Redis), and a trainee's browser to drive them."""
from __future__ import annotations

import html
import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"port {port} did not open within {seconds} s")


class Browser:
    """A trainee's browser: cookies, CSRF tokens from the pages, no redirects followed for POSTs."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, bases: list[str]):
        self.bases = bases
        self.turn = 0
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), self.NoRedirect)

    def base(self) -> str:
        """Alternate between the site instances: any of them must serve any request."""
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base() + path, timeout=30) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers.get("Location", "")

    def token(self, page_path: str) -> str:
        _, page, _ = self.get(page_path)
        return html.unescape(CSRF.search(page).group(1))

    def post(self, path: str, data: dict, token_page: str, token: str | None = None) -> tuple[int, str]:
        token = token or self.token(token_page)
        body = urllib.parse.urlencode({"csrf_token": token, **data}, doseq=True).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base() + path, data=body), timeout=60) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")


def site_env(environ: dict, *, database_url: str, data_dir: Path, redis_url: str, dicom_port: int, hl7_port: int,
             **extra: str) -> dict:
    """The environment every process of the deployment shares (README, "Running it for a hospital")."""
    return {**environ, "ACADEMY_DATABASE_URL": database_url, "ACADEMY_SANDBOX_DATABASE_URL": database_url,
            "ACADEMY_DATA_DIR": str(data_dir), "ACADEMY_SECRET_KEY": "one-key-for-every-instance",
            "ACADEMY_RATELIMIT_STORAGE_URL": redis_url, "ACADEMY_SANDBOX_HOST": "127.0.0.1",
            "ACADEMY_DICOM_PORT": str(dicom_port), "ACADEMY_HL7_PORT": str(hl7_port), "PYTHONUNBUFFERED": "1",
            **extra}


def flask_command(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True,
                   input=stdin, text=True, capture_output=True)


@contextmanager
def deployment(env: dict, ports: list[int], gunicorn_args: tuple[str, ...] = ("-w", "2")):
    """The sandbox service and one gunicorn instance per port; yields the sites' base URLs, stops all after."""
    python, gunicorn = sys.executable, str(Path(sys.executable).with_name("gunicorn"))
    data_dir, dicom_port = Path(env["ACADEMY_DATA_DIR"]), int(env["ACADEMY_DICOM_PORT"])
    processes = [subprocess.Popen([python, "-m", "sandbox", "serve", "--dicom-port", str(dicom_port), "--hl7-port",
                                   env["ACADEMY_HL7_PORT"], "--data-dir", str(data_dir / "sandbox"), "--database-url",
                                   env["ACADEMY_SANDBOX_DATABASE_URL"]], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for_port(dicom_port)
        for port in ports:
            processes.append(subprocess.Popen([gunicorn, *gunicorn_args, "-b", f"127.0.0.1:{port}", "app:create_app()"],
                                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
