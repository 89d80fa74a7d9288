"""The city's identity service on loopback, for the sign-in tests: a real OpenID Connect
provider (tests/oidc/provider.mjs: panva's oidc-provider from npm, pinned in
package-lock.json) and Silta served with the city sign-in switched on exactly as an
operator switches it on (SILTA_OIDC_ENABLED and the OIDC_* settings in the environment),
each a process of its own on a free port, Silta on the suite's test database as the app's
limited role. A test module uses them by importing the fixtures:

    from tests.oidc.fixtures import city_provider, city_silta  # noqa: F401

The tests that use them are transactional (the Silta process sees only committed rows).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import httpx
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROVIDER_SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
API_RESOURCE = "urn:silta:api"
API_AUDIENCE = "silta-api"
SILTA_CLIENT = ("silta", "silta-test-secret")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(url: str, process: subprocess.Popen, log: Path, seconds: float = 60):
    """Polls `url` until it answers 200; fails with the process's log if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer in {seconds} s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class DirectoryUser:
    """A person in the city's directory: what the identity service knows of them."""

    username: str
    groups: list[str]
    given_name: str = "Testi"
    family_name: str = "Käyttäjä"
    email: str = ""
    password: str = field(default_factory=lambda: uuid.uuid4().hex)
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))


class CityProvider:
    """The provider's users (written to the file it reads at every sign-in) and the API
    client's way of getting a user's access token: the authorization code flow, as an
    application calling Silta's API would run it."""

    def __init__(self, folder: Path, port: int, silta_url: str):
        self.issuer = f"http://127.0.0.1:{port}"
        self.port = port
        self.silta_url = silta_url
        self.users_file = folder / "users.json"
        self.log = folder / "provider.log"
        self.users: dict[str, DirectoryUser] = {}
        self._write()

    def add(self, username: str, groups: list[str], **details) -> DirectoryUser:
        user = DirectoryUser(username=username, groups=list(groups), **details)
        self.users[username] = user
        self._write()
        return user

    def set_groups(self, user: DirectoryUser, groups: list[str]) -> None:
        user.groups = list(groups)
        self._write()

    def _write(self) -> None:
        self.users_file.write_text(json.dumps([asdict(user) for user in self.users.values()]))

    def requests_to(self, path: str) -> int:
        """How many requests for `path` the provider has answered (its log)."""
        return sum(1 for line in self.log.read_text().splitlines() if f" {path} " in line)

    def tokens(
        self,
        user: DirectoryUser,
        *,
        client: str = "api-client",
        scope: str = "openid silta",
        resource: str | None = API_RESOURCE,
    ) -> dict:
        """The token answer for `user` signing in to `client` with their password, through
        the authorization code flow, as an application calling Silta's API runs it: with
        `resource`, a JWT access token for Silta's API (audience silta-api)."""
        redirect_uri = f"{self.issuer}/callback/{client}"
        asked = {
            "client_id": client,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": uuid.uuid4().hex,
            "nonce": uuid.uuid4().hex,
        }
        if resource:
            asked["resource"] = resource
        with httpx.Client(base_url=self.issuer, timeout=10) as browser:
            answer = browser.get("/auth", params=asked)
            for _hop in range(10):
                location = answer.headers.get("location", "")
                if location.startswith(redirect_uri):
                    break
                if answer.status_code == 200:  # the sign-in page
                    action = re.search(r'action="([^"]+)"', answer.text).group(1)
                    answer = browser.post(
                        action, data={"username": user.username, "password": user.password}
                    )
                else:
                    assert answer.is_redirect, answer.text
                    answer = browser.get(urljoin(self.issuer, location))
            else:
                pytest.fail("the provider never sent the code back")
            code = parse_qs(urlsplit(location).query)["code"][0]
            exchange = {"grant_type": "authorization_code", "code": code}
            exchange["redirect_uri"] = redirect_uri
            if resource:
                exchange["resource"] = resource
            token = browser.post("/token", data=exchange, auth=(client, f"{client}-secret"))
        assert token.status_code == 200, token.text
        return token.json()

    def access_token(self, user: DirectoryUser, *, client: str = "api-client") -> str:
        return self.tokens(user, client=client)["access_token"]


@dataclass
class CitySilta:
    url: str
    log: Path


@pytest.fixture(scope="module")
def city_ports():
    return free_port(), free_port()


@pytest.fixture(scope="module")
def city_provider(city_ports, tmp_path_factory):
    provider_port, silta_port = city_ports
    node_module = ROOT / "node_modules" / "oidc-provider"
    assert node_module.exists(), "oidc-provider is missing: `make test` installs it (npm ci)"
    node = shutil.which("node")
    assert node, "Node.js is missing (the README's requirements)"
    folder = tmp_path_factory.mktemp("city-provider")
    provider = CityProvider(folder, provider_port, f"http://127.0.0.1:{silta_port}")
    with provider.log.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own script on loopback)
            [
                node,
                str(PROVIDER_SCRIPT),
                str(provider_port),
                str(provider.users_file),
                provider.silta_url,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answers(
            f"{provider.issuer}/.well-known/openid-configuration", process, provider.log
        )
        yield provider
    finally:
        stop(process)


@pytest.fixture(scope="module")
def city_silta(city_ports, city_provider, django_db_setup, tmp_path_factory):
    """Silta (gunicorn, as in production) with the city sign-in on, on the test database."""
    from django.db import connection

    _provider_port, silta_port = city_ports
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_READ_DOT_ENV": "0",
        "DJANGO_SECRET_KEY": "test-only-not-secret",
        # Static files from the app folders and node_modules (no collectstatic run).
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_OWNER_URL": "",
        "DATABASE_CONN_MAX_AGE": "0",
        "SILTA_BASE_URL": city_provider.silta_url,
        "LOG_FORMAT": "text",
        "SILTA_OIDC_ENABLED": "true",
        "OIDC_ISSUER": city_provider.issuer,
        "OIDC_CLIENT_ID": SILTA_CLIENT[0],
        "OIDC_CLIENT_SECRET": SILTA_CLIENT[1],
        "OIDC_SCOPES": "ad_groups",
        "OIDC_GROUPS_CLAIM": "ad_groups",
        "OIDC_API_AUDIENCE": API_AUDIENCE,
        "AXES_FAILURE_LIMIT": "5",
    }
    log = tmp_path_factory.mktemp("city-silta") / "silta.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and app)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{silta_port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answers(f"{city_provider.silta_url}/healthz", process, log)
        yield CitySilta(url=city_provider.silta_url, log=log)
    finally:
        stop(process)
