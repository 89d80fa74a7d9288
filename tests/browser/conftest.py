"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded
browser) against Silta on pytest-django's live server, on the suite's PostgreSQL.

Screenshots go to test-artifacts/screenshots/<language>/; every main page is checked with
axe-core (from npm) for serious or critical WCAG 2.1 A/AA violations, and for strings left
untranslated in the page's language."""

from __future__ import annotations

import gettext
import os
import re
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests
# make between browser steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SILTA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
AXE = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
LANGUAGES = ["fi", "sv", "en"]
BUTTON = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: make test installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _catalog(language: str) -> dict:
    mo = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.mo"
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)._catalog


def _plain(text: str) -> bool:
    return bool(text) and "%" not in text and "{" not in text and len(text) >= 4


ENDONYMS = set(BUTTON.values())  # the language switch names each language in itself


def untranslated_words(language: str) -> set[str]:
    """Strings that must not appear on a page in `language`: for Swedish and Finnish the
    English originals of strings that have a translation (gettext fell back to them); for
    English the Finnish translations (a string hard-coded in Finnish)."""
    return _expected_translations(language) - ENDONYMS


def _expected_translations(language: str) -> set[str]:
    if language == "en":
        return {
            msgstr
            for msgid, msgstr in _catalog("fi").items()
            if isinstance(msgid, str) and msgid and _plain(msgstr) and msgstr != msgid
        }
    return {
        msgid
        for msgid, msgstr in _catalog(language).items()
        if isinstance(msgid, str) and _plain(msgid) and msgstr != msgid
    }


class Session:
    """One signed-in user in one language: goes to pages, checks and photographs them."""

    def __init__(self, page, base_url: str, language: str, role: str):
        self.page = page
        self.base_url = base_url
        self.language = language
        self.role = role
        self.forbidden = untranslated_words(language)

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def shoot(self, name: str) -> Path:
        folder = ARTIFACTS / self.language
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.role}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self, name: str) -> None:
        """Screenshot, accessibility and translation of the page as it is now."""
        self.shoot(name)
        assert self.page.locator("html").get_attribute("lang") == self.language
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
            })"""
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name}: axe-core found {bad}"
        lines = {line.strip() for line in self.page.inner_text("body").splitlines()}
        text = " ".join(lines)
        left = sorted(
            word
            for word in self.forbidden
            if word in lines or (len(word) >= 16 and re.search(rf"\b{re.escape(word)}\b", text))
        )
        assert not left, f"{name} in {self.language}: untranslated {left}"


@pytest.fixture
def sign_in(browser, live_server):
    contexts = []

    def open_as(user, *, language: str, role: str, check_login: bool = False) -> Session:
        # bypass_csp lets the test inject axe-core; Silta's own pages need no exception.
        context = browser.new_context(bypass_csp=True, locale=language)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        session = Session(page, live_server.url, language, role)
        page.goto(live_server.url + "/login/")
        if language != "fi":
            page.get_by_role("button", name=BUTTON[language]).click()
        if check_login:
            session.check("login")
        page.locator("input[name=username]").fill(user.username)
        page.locator("input[name=password]").fill("pw")
        page.locator("form[action='/login/'] button[type=submit]").click()
        page.wait_for_load_state()
        return session

    yield open_as
    for context in contexts:
        context.close()
