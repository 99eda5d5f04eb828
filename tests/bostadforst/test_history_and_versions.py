"""Change history (who changed what and when, restore in admin) and no lost
updates (a stale save is refused and says what the other person changed)."""

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse

from bostadforst.history import change_history
from bostadforst.models import StaleObjectError
from bostadforst.versioning import VersionedModelForm, describe_changes_since
from participants.models import Participant
from tests.participants.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


class ParticipantContactForm(VersionedModelForm):
    class Meta:
        model = Participant
        fields = ["phone", "postal_address"]


def edit(person, user, **values):
    for key, value in values.items():
        setattr(person, key, value)
    person._history_user = user
    person.save()


def test_history_shows_who_changed_which_fields_and_when(support_staff, social_worker):
    person = ParticipantFactory()
    edit(person, support_staff, phone="070-1")
    edit(person, social_worker, postal_address="Storgatan 2", first_name="Ny")
    rows = change_history(person)
    assert [(r.who, r.action) for r in rows][:2] == [
        (str(social_worker), "ändrade"),
        (str(support_staff), "ändrade"),
    ]
    assert sorted(rows[0].fields) == ["förnamn", "postadress"]
    assert rows[1].fields == ["telefon"]
    assert rows[-1].action == "skapade"


def test_the_history_partial_renders_without_values(support_staff):
    person = ParticipantFactory(phone="070-HEMLIGT")
    edit(person, support_staff, phone="070-NYTT")
    html = Template("{% load audit %}{% change_history person %}").render(
        Context({"person": person})
    )
    assert "Ändringshistorik" in html
    assert str(support_staff) in html and "telefon" in html
    assert "070-NYTT" not in html and "070-HEMLIGT" not in html


def test_a_stale_save_is_refused_with_what_the_other_person_changed(support_staff, social_worker):
    person = ParticipantFactory(phone="070-1")
    opened_at = person.version
    form_data = {"phone": "070-mitt", "postal_address": "", "version": opened_at}
    # Someone else saves first.
    theirs = Participant.objects.get(pk=person.pk)
    edit(theirs, social_worker, phone="070-deras", postal_address="Deras väg 1")

    form = ParticipantContactForm(form_data, instance=Participant.objects.get(pk=person.pk))
    assert not form.is_valid()
    message = " ".join(form.non_field_errors())
    assert "Någon annan" in message
    assert str(social_worker) in message
    assert "telefon" in message and "postadress" in message
    person.refresh_from_db()
    assert person.phone == "070-deras"  # never a silent overwrite


def test_after_a_refused_save_the_form_keeps_the_text_and_saving_again_goes_through(
    social_worker,
):
    person = ParticipantFactory(phone="070-1")
    stale = {"phone": "070-mitt", "postal_address": "", "version": person.version}
    edit(Participant.objects.get(pk=person.pk), social_worker, phone="070-deras")
    form = ParticipantContactForm(stale, instance=Participant.objects.get(pk=person.pk))
    assert not form.is_valid()
    assert form["phone"].value() == "070-mitt"
    again = ParticipantContactForm(form.data, instance=Participant.objects.get(pk=person.pk))
    assert again.is_valid(), again.errors
    again.save()
    person.refresh_from_db()
    assert person.phone == "070-mitt"


def test_a_save_that_loses_the_race_after_validation_is_refused_too(support_staff, social_worker):
    """The form checked the version; someone saves before this form's UPDATE:
    the UPDATE's own version check refuses it."""
    person = ParticipantFactory(phone="070-1")
    form = ParticipantContactForm(
        {"phone": "070-mitt", "postal_address": "", "version": person.version},
        instance=Participant.objects.get(pk=person.pk),
    )
    assert form.is_valid()
    edit(Participant.objects.get(pk=person.pk), social_worker, phone="070-deras")
    with pytest.raises(StaleObjectError):
        form.save()
    person.refresh_from_db()
    assert person.phone == "070-deras"


def test_describe_changes_since_an_unknown_version_does_not_crash():
    person = ParticipantFactory()
    assert describe_changes_since(person, "x")
    assert describe_changes_since(person, 99)


def test_a_tampered_version_is_refused_like_a_stale_one(support_staff):
    person = ParticipantFactory()
    form = ParticipantContactForm(
        {"phone": "1", "postal_address": "", "version": person.version + 5}, instance=person
    )
    assert not form.is_valid()
    assert "Någon annan" in " ".join(form.non_field_errors())
    person.refresh_from_db()
    assert person.phone != "1"


def test_the_version_field_is_hidden_and_required_when_editing():
    person = ParticipantFactory()
    form = ParticipantContactForm(instance=person)
    assert isinstance(form.fields["version"].widget, forms.HiddenInput)
    assert form.fields["version"].initial == person.version
    assert not ParticipantContactForm(
        {"phone": "1", "postal_address": ""}, instance=person
    ).is_valid()


# --- Admin: history view, restore, hidden version ----------------------------------


@pytest.fixture
def superuser_client(client, administrator):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    return client


@pytest.mark.urls("tests.bostadforst.admin_urls")
def test_administrators_see_history_and_restore_an_earlier_version(
    superuser_client, administrator, support_staff
):
    person = ParticipantFactory(phone="070-första")
    edit(person, support_staff, phone="070-andra")
    first = person.history.order_by("history_date").first()

    history = superuser_client.get(
        reverse("admin:participants_participant_history", args=[person.pk])
    )
    assert history.status_code == 200
    assert str(support_staff) in history.content.decode()

    revert_url = reverse(
        "admin:participants_participant_simple_history", args=[person.pk, first.history_id]
    )
    page = superuser_client.get(revert_url)
    assert page.status_code == 200
    assert f'name="version" value="{person.version}"' in page.content.decode()
    response = superuser_client.post(
        revert_url,
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": "070-första",
            "status": person.status,
            "version": person.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "070-första"
    latest = person.history.order_by("-history_date").first()
    assert latest.history_user == administrator


@pytest.mark.urls("tests.bostadforst.admin_urls")
def test_the_admin_refuses_a_stale_save_and_says_what_changed(superuser_client, social_worker):
    person = ParticipantFactory(phone="070-1")
    url = reverse("admin:participants_participant_change", args=[person.pk])
    page = superuser_client.get(url)
    assert f'name="version" value="{person.version}"' in page.content.decode()
    opened_at = person.version
    edit(Participant.objects.get(pk=person.pk), social_worker, phone="070-deras")
    response = superuser_client.post(
        url,
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": "070-admin",
            "status": person.status,
            "version": opened_at,
        },
    )
    assert response.status_code == 200
    assert "Någon annan" in response.content.decode()
    person.refresh_from_db()
    assert person.phone == "070-deras"
