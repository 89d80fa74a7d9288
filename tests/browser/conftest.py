"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded
browser) against Silta on pytest-django's live server, on the suite's PostgreSQL.

Screenshots go to test-artifacts/screenshots/<language>/; every main page is checked with
two accessibility checkers from npm, axe-core (no serious or critical WCAG 2.1 A/AA
violation) and HTML_CodeSniffer (no WCAG2AA error: it finds what axe does not, as pa11y
runs it), for reflow (nothing scrolls sideways at 390 px or at 320 px, WCAG 1.4.10), and
for strings left untranslated in the page's language."""

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
HTMLCS = Path(settings.NODE_MODULES) / "html_codesniffer" / "build" / "HTMLCS.js"
# Phone widths every checked page must fit without sideways scrolling (WCAG 1.4.10 asks
# for 320 CSS px); the desktop width the pages are photographed and checked at.
NARROW_WIDTHS = (390, 320)
DESKTOP = {"width": 1366, "height": 900}
LANGUAGES = ["fi", "sv", "en"]
BUTTON = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


@pytest.fixture(scope="session")
def browser(django_db_setup):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: make test installs Debian's chromium"
    # The snapshot of the fresh test database that transactional tests restore (migration
    # data: regions, checklist). Once Playwright's event loop runs in this thread, Django's
    # per-thread connection storage is a new one; the snapshot is carried over to it.
    snapshot = getattr(connections["default"], "_test_serialized_contents", None)
    with sync_playwright() as playwright:
        if snapshot is not None:
            connections["default"]._test_serialized_contents = snapshot
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
        # What the Content-Security-Policy blocked, and Silta's own requests that failed
        # (a static file missing, a server error behind an htmx swap).
        self.blocked: list[str] = []
        self.failed: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.blocked.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                self.failed.append(f"{response.status} {response.url}")
                if response.url.startswith(base_url)
                and response.status >= 400
                and not response.url.endswith("/favicon.ico")
                else None
            ),
        )

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
        assert not self.blocked, f"{name}: the Content-Security-Policy blocked {self.blocked}"
        assert not self.failed, f"{name}: requests failed: {self.failed}"
        # Evaluated through the DevTools protocol, which the page's CSP does not govern:
        # the pages are tested under the policy they are served with.
        self.page.evaluate(AXE.read_text())
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
        errors = htmlcs_errors(self.page)
        assert not errors, f"{name}: HTML_CodeSniffer (WCAG2AA) found {errors}"
        for width in NARROW_WIDTHS:
            wide = overflow_at(self.page, width)
            if wide:  # a picture of what sticks out, beside the others
                before = self.page.viewport_size
                self.page.set_viewport_size({"width": width, "height": 900})
                self.shoot(f"{name}-{width}px")
                self.page.set_viewport_size(before)
            assert not wide, f"{name} at {width} px scrolls sideways: {wide}"
        lines = {line.strip() for line in self.page.inner_text("body").splitlines()}
        text = " ".join(lines)
        left = sorted(
            word
            for word in self.forbidden
            if word in lines or (len(word) >= 16 and re.search(rf"\b{re.escape(word)}\b", text))
        )
        assert not left, f"{name} in {self.language}: untranslated {left}"


def htmlcs_errors(page) -> list[str]:
    """HTML_CodeSniffer's WCAG2AA errors on the page as it is now (its notices and
    warnings ask for a person's judgement; pa11y too fails only on errors)."""
    assert HTMLCS.exists(), f"{HTMLCS} missing: run npm ci (package.json devDependencies)"
    page.evaluate(HTMLCS.read_text())
    messages = page.evaluate(
        """() => new Promise((resolve, reject) => HTMLCS.process('WCAG2AA', document, () =>
            resolve(HTMLCS.getMessages().filter((m) => m.type === HTMLCS.ERROR).map((m) =>
                m.code + ': ' + m.msg + ' at ' + (m.element.outerHTML || m.element.nodeName)
                    .slice(0, 160))), reject))"""
    )
    return list(messages)


def overflow_at(page, width: int) -> list[str]:
    """At `width` CSS px: how much wider than the window the page is, and the widest
    elements that stick out (empty when it fits). The viewport is put back afterwards."""
    before = page.viewport_size or DESKTOP
    page.set_viewport_size({"width": width, "height": before["height"]})
    try:
        found = page.evaluate(
            r"""() => {
                const extra = document.documentElement.scrollWidth - window.innerWidth;
                if (extra <= 0) return [];
                const out = [...document.querySelectorAll('body *')]
                    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
                        && !el.parentElement.closest('.table-scroll, .visually-hidden, .skip-link')
                        && !el.matches('.visually-hidden, .skip-link'))
                    .map((el) => el.tagName.toLowerCase()
                        + (el.id ? '#' + el.id : '')
                        + (el.className && el.className.baseVal === undefined
                            ? '.' + el.className.trim().split(/\s+/).join('.') : '')
                        + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
                return [extra + ' px too wide', ...out.slice(0, 6)];
            }"""
        )
    finally:
        page.set_viewport_size(before)
    return found


@pytest.fixture
def sign_in(browser, live_server):
    contexts = []

    def open_as(user, *, language: str, role: str, check_login: bool = False) -> Session:
        context = browser.new_context(locale=language)
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
