"""The notification settings page: each user chooses the language of their notices and how
e-mail reaches them (at once, a daily digest, or the inbox only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import EmailDelivery, NotificationPreference

pytestmark = pytest.mark.django_db

URL = "/notifications/preferences/"


@pytest.fixture
def web(client):
    def signed_in(user, language="fi"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return signed_in


def test_preferences__url_is_under_notifications():
    assert reverse("web:notification-preferences") == URL


def test_preferences__anonymous_is_sent_to_sign_in(client):
    page = client.get(URL)
    assert page.status_code == 302 and "/login/" in page.url


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fi", ("Ilmoitusasetukset", "Päivittäisenä koosteena", "Vain Siltan ilmoituksissa")),
        ("sv", ("Inställningar för aviseringar", "I en daglig sammanfattning")),
        ("en", ("Notification settings", "In a daily digest", "Inbox only")),
    ],
)
def test_preferences__page_in_each_language_with_the_three_choices(web, org, language, words):
    page = web(org.caseworker, language).get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    for word in words:
        assert word in text
    # No stored choice yet: the inbox only is what applies, and is shown as chosen.
    assert (
        'value="inbox" class="hds-radio-button__input" id="id_email_choice_2" required checked'
        in text
    )


@pytest.mark.parametrize("choice", EmailDelivery.values)
def test_preferences__saving_stores_the_choice_for_this_user_only(web, org, choice):
    page = web(org.caseworker).post(URL, {"language": "sv", "email_choice": choice})
    assert page.status_code == 302 and page.url == URL
    stored = NotificationPreference.objects.get(user=org.caseworker)
    assert (stored.language, stored.email_choice) == ("sv", choice)
    assert not NotificationPreference.objects.exclude(user=org.caseworker).exists()
    again = web(org.caseworker).get(URL).content.decode()
    assert f'value="{choice}" class="hds-radio-button__input"' in again
    checked = [
        line for line in again.splitlines() if 'name="email_choice"' in line and "checked" in line
    ]
    assert len(checked) == 1 and f'value="{choice}"' in checked[0]


def test_preferences__bad_choice_is_named_beside_its_field_and_nothing_is_written(web, org):
    page = web(org.caseworker, "en").post(URL, {"language": "sv", "email_choice": "hourly"})
    assert page.status_code == 400
    text = page.content.decode()
    assert '<p class="hds-text-input__error-text" id="id_email_choice_error">Select a valid' in text
    assert 'aria-describedby="id_email_choice_error"' in text
    # What was chosen is kept.
    assert 'value="sv" class="hds-radio-button__input" id="id_language_1" required checked' in text
    assert not NotificationPreference.objects.filter(user=org.caseworker).exists()


def test_preferences__the_inbox_links_to_the_settings(web, org):
    assert URL in web(org.front_desk).get(reverse("web:notifications")).content.decode()
