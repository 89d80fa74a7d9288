"""The production image's start-up, outside a container (no Docker engine here; README,
"The image"): the same entry point and commands as the Dockerfile and docker-compose.yml.

collectstatic (as the image build does, as the building user), then on a fresh database
`migrate` as the schema's owner (DATABASE_OWNER_URL) and gunicorn as the app's limited role
(DATABASE_URL), both as an unprivileged user when the suite runs as root (the image's
USER), gunicorn with two workers. It must serve the static files (WhiteNoise, hashed
names, cached for a year), answer /healthz and /readyz, sum both workers' request counts
at /metrics, and write only JSON lines. Each step's time is printed (`pytest -s`).
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "start-up-test-token"
RUN_AS = "nobody" if os.geteuid() == 0 else None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_runtime_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *command] if RUN_AS else command


def get(url: str, token: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (loopback, a port of ours)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def fresh_database():
    """A database of its own on the suite's server, made and dropped by the owner."""
    owner_url = os.environ.get("DATABASE_OWNER_URL")
    app_url = os.environ.get("DATABASE_URL")
    if not owner_url or not app_url or not owner_url.startswith("postgres"):
        pytest.fail("run with `make test`: DATABASE_URL and DATABASE_OWNER_URL (PostgreSQL)")
    name = f"silta_start_{os.getpid()}"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(owner_url, name), with_database(app_url, name)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def image_environment(work: Path) -> Path:
    """The bin directory of the environment the commands run from. As root, the image's
    own: the locked dependencies without the development ones (`uv sync --locked --no-dev`,
    as the Dockerfile does) on the system's Python, which the unprivileged user can run
    (the suite's .venv may point at an interpreter in root's home)."""
    if not RUN_AS:
        return ROOT / ".venv" / "bin"
    python = next(
        (
            p
            for p in ("/usr/bin/python3.13", "/usr/bin/python3.12", "/usr/bin/python3.11")
            if Path(p).exists()
        ),
        None,
    )
    if python is None:
        pytest.fail("as root, the start-up test needs a system Python 3.11+ in /usr/bin")
    venv = work / "venv"
    subprocess.run(  # noqa: S603 (the repository's own uv)
        [
            str(ROOT / ".uv" / "bin" / "uv"),
            "sync",
            "--locked",
            "--no-dev",
            "--no-install-project",
            "--quiet",
            "--python",
            python,
        ],
        cwd=ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"},
        check=True,
    )
    return venv / "bin"


def image_app(work: Path) -> Path:
    """The image's /app: the repository's files (as COPY puts them) and the front-end
    packages (as `npm ci` does), readable by the runtime user wherever the checkout lies
    (a checkout under root's home or a private temporary folder is not)."""
    if not RUN_AS:
        return ROOT
    app = work / "app"
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 (git, on the repository itself)
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / name)
    shutil.copytree(ROOT / "node_modules", app / "node_modules", symlinks=True)
    subprocess.run(["chmod", "-R", "a+rX", str(app)], check=True)  # noqa: S603, S607
    return app


def test_production_start__collectstatic_migrate_as_owner_then_gunicorn_as_the_app(
    fresh_database,
):
    owner_url, app_url = fresh_database
    work = Path(tempfile.mkdtemp(prefix="silta-start-"))
    work.chmod(0o755)
    timings: dict[str, float] = {}
    began = time.monotonic()
    bin_dir = image_environment(work)
    timings["the image's environment (uv sync --no-dev)"] = time.monotonic() - began
    entrypoint = str(image_app(work) / "scripts" / "entrypoint.sh")
    static, metrics_dir = work / "static", work / "prometheus"
    metrics_dir.mkdir()
    if RUN_AS:
        shutil.chown(metrics_dir, user=RUN_AS)
    port = free_port()
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_READ_DOT_ENV": "0",
        "DJANGO_SECRET_KEY": "start-up-test-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static),
        "DATABASE_URL": app_url,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "SILTA_METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    try:
        began = time.monotonic()
        # The image build: collectstatic, as the building user, before USER.
        subprocess.run(  # noqa: S603 (the repository's entry point)
            [entrypoint, "collectstatic"], env=env, check=True, capture_output=True
        )
        timings["collectstatic"] = time.monotonic() - began
        assert (static / "staticfiles.json").is_file()

        # The one-off migration, as the owner; it creates and grants the app's role.
        began = time.monotonic()
        migrated = subprocess.run(  # noqa: S603 (the repository's entry point)
            as_runtime_user([entrypoint, "migrate"]),
            env={**env, "DATABASE_OWNER_URL": owner_url},
            capture_output=True,
            text=True,
        )
        timings["migrate"] = time.monotonic() - began
        assert migrated.returncode == 0, migrated.stderr[-3000:]

        # The web app, as the limited role: no DATABASE_OWNER_URL in its environment.
        began = time.monotonic()
        web = subprocess.Popen(  # noqa: S603 (the repository's entry point)
            as_runtime_user([entrypoint, "web"]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            status = None
            while time.monotonic() - began < 60 and web.poll() is None:
                try:
                    status = get(f"{base}/healthz")[0]
                except OSError:
                    time.sleep(0.2)
                    continue
                if status == 200:
                    break
            timings["gunicorn until /healthz answers"] = time.monotonic() - began
            assert status == 200, "gunicorn did not answer /healthz"

            status, _, body = get(f"{base}/readyz")
            assert status == 200
            assert json.loads(body)["checks"] == {
                "database": "ok",
                "migrations": "ok",
                "broker": "ok" if env["REDIS_URL"] else "error",
            }

            manifest = json.loads((static / "staticfiles.json").read_text())["paths"]
            hashed = manifest["admin/css/base.css"]
            status, headers, body = get(f"{base}/static/{hashed}")
            assert status == 200 and body.startswith(b"/*")
            assert "max-age=315360000" in headers.get("Cache-Control", "")

            for _ in range(20):  # spread over both workers
                get(f"{base}/healthz")
            status, _, body = get(f"{base}/metrics", token=TOKEN)
            assert status == 200
            text = body.decode()
            counted = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("silta_http_request_duration_seconds_count{")
                and 'route="healthz"' in line
            ]
            assert sum(counted) >= 21
            assert "silta_sweep_succeeded_today" in text
            assert get(f"{base}/metrics")[0] == 401

            if RUN_AS:
                # runuser (root's) started gunicorn's master and its two workers as RUN_AS.
                master = subprocess.run(  # noqa: S603
                    ["/usr/bin/pgrep", "-P", str(web.pid)], capture_output=True, text=True
                ).stdout.split()
                assert len(master) == 1
                family = [
                    master[0],
                    *subprocess.run(  # noqa: S603
                        ["/usr/bin/pgrep", "-P", master[0]], capture_output=True, text=True
                    ).stdout.split(),
                ]
                assert len(family) == 3
                for pid in family:
                    assert Path(f"/proc/{pid}").stat().st_uid == pwd.getpwnam(RUN_AS).pw_uid
        finally:
            # gunicorn's master is told to stop, as a container's stop would (runuser, which
            # the image does not have, would otherwise print a line of its own).
            children = subprocess.run(  # noqa: S603
                ["/usr/bin/pgrep", "-P", str(web.pid)], capture_output=True, text=True
            ).stdout.split()
            if RUN_AS and children:
                os.kill(int(children[0]), signal.SIGTERM)
            else:
                web.terminate()
            output, _ = web.communicate(timeout=30)
        timings["total"] = sum(timings.values())
        print("\nstart-up timings (s):", {k: round(v, 2) for k, v in timings.items()})

        lines = [line for line in output.splitlines() if line.strip()]
        assert lines
        for line in lines:
            try:
                record = json.loads(line)  # every line gunicorn and the app wrote is JSON
            except ValueError:
                pytest.fail(f"not a JSON line: {line!r}")
            assert {"level", "logger", "message", "time"} <= set(record)
        requests = [json.loads(line) for line in lines if '"event": "request"' in line]
        assert [(r["route"], r["status"]) for r in requests] == [("static/", 200)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
