"""Language names and dates as each page language writes them: a client's language is
named in the page's language (CLDR through Babel), never as a code or in English on a
Finnish page; dates and times follow config/formats (1.12.2026 klo 10.00)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from core import clock
from tests.factories import make_org
from web.forms import AcceptForm, CloseForm, ReturnForm
from web.labels import language_choices, language_name


@pytest.mark.parametrize(
    ("code", "fi", "sv", "en"),
    [
        ("ara", "arabia", "arabiska", "Arabic"),
        ("ckb", "soranî", "centralkurdiska", "Central Kurdish"),
        ("som", "somali", "somaliska", "Somali"),
        ("prs", "dari", "dari", "Dari"),
        ("rus", "venäjä", "ryska", "Russian"),
        ("fin", "suomi", "finska", "Finnish"),
    ],
)
def test_a_language_is_named_in_the_pages_language(code, fi, sv, en):
    assert [language_name(code, page) for page in ("fi", "sv", "en")] == [fi, sv, en]
    for page, name in (("fi", fi), ("sv", sv), ("en", en)):
        with translation.override(page):
            assert (
                Template("{% load silta %}{{ code|language_name }}").render(Context({"code": code}))
                == name
            )


def test_a_code_cldr_does_not_name_is_shown_as_stored_and_an_empty_one_as_nothing():
    assert language_name("qqq", "fi") == "qqq"
    assert language_name("", "fi") == ""
    assert language_name(None, "sv") == ""


def test_language_choices_are_sorted_by_the_name_in_the_pages_language():
    assert language_choices(["rus", "ara", "som"], "fi") == [
        ("ara", "arabia"),
        ("som", "somali"),
        ("rus", "venäjä"),
    ]


MOMENT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=clock.tz())


@pytest.mark.parametrize(
    ("language", "date", "moment", "time"),
    [
        ("fi", "1.12.2026", "1.12.2026 klo 10.00", "10.00"),
        ("sv", "1.12.2026", "1.12.2026 kl. 10.00", "10.00"),
        ("en", "1 December 2026", "1 December 2026, 10:00", "10:00"),
    ],
)
def test_dates_and_times_in_each_languages_own_format(language, date, moment, time):
    template = Template(
        '{{ day|date:"SHORT_DATE_FORMAT" }}|{{ day|date }}|'
        '{{ moment|date:"SHORT_DATETIME_FORMAT" }}|{{ moment|date:"DATETIME_FORMAT" }}|'
        "{{ moment|time }}"
    )
    with translation.override(language):
        rendered = template.render(Context({"day": MOMENT.date(), "moment": MOMENT}))
    assert rendered.split("|") == [date, date, moment, moment, time]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (lambda org: AcceptForm(team=org.adult), "receiving_worker", "Valitse vastaanottava"),
        (lambda org: ReturnForm(), "reason", "Valitse palautuksen syy."),
        (lambda org: CloseForm(), "reason", "Valitse päättämisen syy."),
    ],
)
def test_a_select_starts_empty_and_refuses_a_missing_choice_beside_it(form, field, message):
    """Nothing is chosen for the user: the first option is an empty one, selected, and a
    form sent without a choice says what to choose beside the field."""
    org = make_org()
    with translation.override("fi"):
        unbound = form(org)
        html = str(unbound[field])
        assert '<option value="" selected>Valitse</option>' in html
        assert 'class="hds-text-input__input"' in html
        bound = type(unbound)(
            data={}, **({"team": org.adult} if field == "receiving_worker" else {})
        )
        assert not bound.is_valid()
        assert message in " ".join(bound.errors[field])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words", "english"),
    [
        (
            "fi",
            ["Kirjautumisyritykset", "IP-osoite", "Käyttäjätunnus", "Yrityksen aika"],
            "IP Address",
        ),
        (
            "sv",
            ["Inloggningsförsök", "IP-adress", "Användarnamn", "Tid för försöket"],
            "IP Address",
        ),
    ],
)
def test_the_admins_axes_pages_speak_the_users_language(admin_client, language, words, english):
    """django-axes ships no Finnish or Swedish: Silta's catalogue carries its words."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="kokeilija",
        ip_address="192.0.2.10",
        user_agent="test",
        http_accept="*/*",
        path_info="/login/",
        failures_since_start=2,
    )
    admin_client.cookies["django_language"] = language
    html = admin_client.get("/admin/axes/accessattempt/").content.decode()
    for word in words:
        assert word in html
    assert english not in html
    index = admin_client.get("/admin/").content.decode()
    assert words[0] in index and ">Axes<" not in index


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_date_typed_as_the_page_shows_it_is_accepted(language):
    """An admin user types what the help text shows (esim. / t.ex. 3.12.2026 10.00)."""
    from django import forms

    with translation.override(language):
        moment = forms.DateTimeField().clean("3.12.2026 10.00")
        day = forms.DateField().clean("3.12.2026")
        iso = forms.DateField().clean("2026-12-03")
    assert (moment.day, moment.month, moment.hour) == (3, 12, 10)
    assert day == iso == dt.date(2026, 12, 3)


def test_a_clients_language_name_is_the_pages_too():
    """Client.language_name, for templates that use it: CLDR's name, not pycountry's
    English one."""
    from cases.models import Client

    client = Client(language="ara")
    with translation.override("fi"):
        assert client.language_name == "arabia"
    with translation.override("sv"):
        assert client.language_name == "arabiska"


@pytest.mark.django_db
def test_the_cap_message_writes_the_date_as_the_language_does():
    from cases import services as case_services
    from cases.enums import Role
    from core.errors import CapReached
    from tests.factories import open_case

    case = open_case(make_org(), started_months_ago=60)
    for language, written in (
        ("fi", f"{case.cap_on.day}.{case.cap_on.month}.{case.cap_on.year}"),
        ("en", f"{case.cap_on.day} {case.cap_on:%B} {case.cap_on.year}"),
    ):
        with translation.override(language), pytest.raises(CapReached) as refused:
            case_services.require_cap_decision(case, role=Role.CASEWORKER, decision="")
        assert written in str(refused.value.detail)
        assert case.cap_on.isoformat() not in str(refused.value.detail)
