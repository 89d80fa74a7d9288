"""Every action Silta writes into the access log has its words (audit.labels): the
client's report and the administrator's list never show a code. The actions are found in
the source, where the surfaces and tasks name them, so a new action without words fails
here before a client reads its code."""

import ast
from pathlib import Path

import pytest
from django.utils import translation

from audit.access import PURPOSES
from audit.labels import action_label, purpose_label, role_label
from cases import intake
from cases.enums import Role
from cases.models import ContactRequest
from exports import services as exports
from transfers.enums import NoticeKind

ROOT = Path(__file__).resolve().parents[2]
APPS = ["api", "audit", "cases", "core", "criteria", "exports", "partners", "transfers", "web"]
# audit.access's writers and the surfaces' helpers around them that take the action by name.
WRITERS = {
    "log_access",
    "log_denied",
    "perform_and_log",
    "record_refusal",
    "get_in_scope_or_404",
    "rows_logged_when_read",
    "read_and_log",
    "access_logger",
    "shown",
    "act",
    "create_through",
    "CaseRows",
}


def written_actions() -> set[str]:
    """The actions named in the apps' source: `action="..."` given to a writer, a writer's
    default, and the admin's `_log(request, "...")`."""
    found: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    given = [kw.value for kw in node.keywords if kw.arg == "action"]
                    if name == "_log" and len(node.args) > 1:
                        given.append(node.args[1])
                    if name in WRITERS or name == "_log":
                        found |= {
                            value.value
                            for value in given
                            if isinstance(value, ast.Constant) and isinstance(value.value, str)
                        }
                        # f"task_booking_{action}": its fixed beginning and any ending.
                        found |= {
                            f"{value.values[0].value}any"
                            for value in given
                            if isinstance(value, ast.JoinedStr)
                            and isinstance(value.values[0], ast.Constant)
                        }
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    if node.name not in WRITERS and node.name != "__init__":
                        continue
                    args = node.args
                    pairs = list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
                    pairs += list(
                        zip(
                            args.args[len(args.args) - len(args.defaults) :],
                            args.defaults,
                            strict=True,
                        )
                    )
                    found |= {
                        default.value
                        for arg, default in pairs
                        if arg.arg == "action"
                        and isinstance(default, ast.Constant)
                        and isinstance(default.value, str)
                    }
    return found


def test_the_source_scan_finds_the_actions_of_each_surface():
    """The scan itself: it must see the web's, the API's and the admin's actions, or the
    test below would pass on nothing."""
    found = written_actions()
    assert {"web_read", "web_list", "api_list", "api_transition", "admin_list"} <= found
    assert {"access_report", "partner_link_read", "admin_create"} <= found
    assert {"task_booking_any", "task_client_any"} <= found


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_action_written_has_its_words_in_every_language(language):
    actions = written_actions() | {exports.ACTION, exports.DOWNLOAD_ACTION}
    # Written with a variable ending: the booking system's messages, the client's notices.
    actions |= {f"task_booking_{kind}" for kind in ("send", "cancel")}
    actions |= {f"task_client_{kind}" for kind in NoticeKind.values}
    actions.add(intake.access_action(ContactRequest(pk=1)))  # built by its own function
    with translation.override(language):
        unnamed = sorted(code for code in actions if action_label(code) == code)
        assert unnamed == []
        untranslated = sorted(
            code
            for code in actions
            if language != "en" and action_label(code) == _english(action_label, code)
        )
        assert untranslated == []


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_purpose_and_role_has_its_words_in_the_language(language):
    codes = [*PURPOSES, *Role.values, "administrator", "partner_contact"]
    with translation.override(language):
        for code in codes:
            label = purpose_label(code) if code in PURPOSES else role_label(code)
            assert label != code
            english = _english(purpose_label if code in PURPOSES else role_label, code)
            assert label != english, (language, code)


def _english(label, code: str) -> str:
    with translation.override("en"):
        return label(code)
