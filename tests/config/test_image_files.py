"""The Dockerfile and docker-compose.yml say what the start-up test runs
(test_production_start.py). There is no Docker engine nor `docker compose` here, so the
compose file is checked as YAML (as compose reads it, anchors merged) against what Silta
needs; where `docker compose` is installed, its own `config` check runs too."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT_COMMANDS = {"collectstatic", "migrate", "web", "worker", "beat"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose__valid_where_docker_compose_is_installed():
    docker = shutil.which("docker")
    if docker is None:
        return
    has_compose = (
        subprocess.run(  # noqa: S603 (the installed docker CLI)
            [docker, "compose", "version"], capture_output=True
        ).returncode
        == 0
    )
    if has_compose:
        env = {"DJANGO_SECRET_KEY": "x", "POSTGRES_PASSWORD": "x", "POSTGRES_APP_PASSWORD": "y"}
        subprocess.run(  # noqa: S603
            [docker, "compose", "config", "-q"], cwd=ROOT, env=env, check=True
        )


def test_compose__services_run_the_image_entry_point_with_its_roles_and_checks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    app = {name: services[name] for name in ("migrate", "web", "worker", "beat")}
    for name, service in app.items():
        assert service["build"] == "." and service["image"] == "silta:latest", name
        assert service["command"][0] in ENTRYPOINT_COMMANDS, name
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://silta_app:"), name
        assert env["LOG_FORMAT"] == "json"
        assert {"SENTRY_DSN", "SILTA_METRICS_TOKEN"} <= set(env)
        # Only the one-off migration connects as the owner.
        assert ("DATABASE_OWNER_URL" in env) == (name == "migrate"), name
    assert app["migrate"]["command"] == ["migrate"]
    assert app["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert app[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
        assert app[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(app["web"]["healthcheck"]["test"])
    assert app["migrate"]["healthcheck"] == {"disable": True}
    assert all(
        port.startswith("127.0.0.1:") for s in services.values() for port in s.get("ports", [])
    )


def test_dockerfile__non_root_entry_point_and_health_check():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["./scripts/entrypoint.sh"]' in text
    assert 'CMD ["web"]' in text
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", text, re.MULTILINE)
    assert "uv sync --locked --no-dev" in text
    assert "entrypoint.sh collectstatic" in text
    # The entry point knows every command the compose file gives it.
    script = (ROOT / "scripts" / "entrypoint.sh").read_text()
    for command in ENTRYPOINT_COMMANDS:
        assert re.search(rf"^\s+{command}\)$", script, re.MULTILINE), command
