"""The API's documentation page (Swagger UI, /api/v1/docs/) in a real browser under the
site's own Content-Security-Policy: the operations are drawn, a signed-in user can try one,
and the policy blocks nothing (the page's script is a file of its own, no inline code)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOCS = "/api/v1/docs/"

# Reported by the page itself (the DevTools console misses nothing, but says it in prose).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _open(browser, base_url: str, *, language: str = "fi"):
    context = browser.new_context(locale=language)
    page = context.new_page()
    page.set_default_timeout(20_000)
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(WATCH_VIOLATIONS)
    return context, page, blocked


def _assert_nothing_blocked(page, blocked: list[str]) -> None:
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"
    violations = page.evaluate("window.__cspViolations")
    assert not violations, f"CSP violations: {violations}"


def test_api_docs__operations_drawn_under_the_sites_csp(browser, live_server):
    context, page, blocked = _open(browser, live_server.url)
    try:
        response = page.goto(live_server.url + DOCS)
        assert response.status == 200
        # The policy is the site's own, not loosened for this page.
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["content-security-policy"].split(";")
        )
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("style").count() == 0

        page.locator(".opblock").first.wait_for()
        assert page.locator(".opblock-tag").count() >= 5  # the areas: cases, transfers, ...
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(text.startswith("/api/v1/cases/") for text in paths), paths[:10]
        assert any(text.startswith("/api/v1/transfers/") for text in paths), paths[:10]
        (ARTIFACTS / "fi").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "fi" / "anonymous-api-docs.png"))
        _assert_nothing_blocked(page, blocked)
    finally:
        context.close()


def test_api_docs__signed_in_user_tries_an_operation(browser, live_server):
    org = make_org()
    context, page, blocked = _open(browser, live_server.url)
    try:
        page.goto(live_server.url + "/login/")
        page.locator("input[name=username]").fill(org.caseworker.username)
        page.locator("input[name=password]").fill("pw")
        page.locator("form[action='/login/'] button[type=submit]").click()
        page.wait_for_load_state()

        page.goto(live_server.url + DOCS)
        operation = page.locator("#operations-cases-cases_list")
        operation.locator(".opblock-summary-control").click()
        operation.get_by_role("button", name="Try it out").click()
        with page.expect_response(lambda r: "/api/v1/cases/" in r.url) as answer:
            operation.get_by_role("button", name="Execute").click()
        assert answer.value.status == 200
        operation.locator(".live-responses-table .response-col_status").first.wait_for()
        assert "200" in operation.locator(".live-responses-table").inner_text()
        _assert_nothing_blocked(page, blocked)
    finally:
        context.close()
