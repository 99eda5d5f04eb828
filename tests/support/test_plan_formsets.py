"""The action-plan form takes any number of goals and actions: rows are added
by submit buttons that show the page again (no JavaScript needed), removed by
their "Ta bort" boxes, and collaborating parties come from the person's own
network contacts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import SubmitToken
from participants.models import NetworkContact
from support.models import ActionPlan, Goal, GoalAction, LifeArea
from tests.participants.factories import NetworkContactFactory

pytestmark = pytest.mark.django_db


def _url(participant) -> str:
    return reverse("support:plan-create", kwargs={"participant_pk": participant.pk})


def _post(goals: list[tuple[str, list[str]]], **overrides) -> dict:
    """A plan with ``goals``: (goal text, [action texts]) each, the tenant doing every action."""
    today = timezone.localdate()
    data = {
        "agreed_on": today.isoformat(),
        "review_on": (today + datetime.timedelta(days=90)).isoformat(),
        "on_breach": "",
        "based_on": "0",
        "goal-TOTAL_FORMS": str(len(goals)),
        "goal-INITIAL_FORMS": "0",
    }
    for g, (text, actions) in enumerate(goals):
        data[f"goal-{g}-life_area"] = LifeArea.HEALTH
        data[f"goal-{g}-text"] = text
        data[f"goal-{g}-action-TOTAL_FORMS"] = str(len(actions))
        data[f"goal-{g}-action-INITIAL_FORMS"] = "0"
        for a, what in enumerate(actions):
            data[f"goal-{g}-action-{a}-who"] = GoalAction.Who.TENANT
            data[f"goal-{g}-action-{a}-what"] = what
    data.update(overrides)
    return data


def _three_by_three() -> list[tuple[str, list[str]]]:
    return [(f"Mål {g}", [f"Åtgärd {g}.{a}" for a in range(3)]) for g in range(3)]


def _saved(participant) -> list[tuple[str, list[str]]]:
    plan = ActionPlan.objects.get(participant=participant)
    return [
        (goal.text, sorted(a.what for a in goal.actions.all()))
        for goal in plan.goals.order_by("position")
    ]


def test_three_goals_with_three_actions_each_are_saved_as_one_version(ss_client, housed):
    response = ss_client.post(_url(housed), _post(_three_by_three()))
    assert response.status_code == 302, response.content.decode()[:500]
    assert _saved(housed) == _three_by_three()
    assert ActionPlan.objects.get(participant=housed).history.count() == 1


def test_adding_a_goal_shows_the_form_again_with_what_was_typed_and_saves_nothing(
    ss_client, housed
):
    data = _post([("Jag vill sova bättre.", ["Kvällspromenad"])], on_breach="Ring Eva.")
    data[TOKEN_FIELD] = "6f1c1d7e-8a8e-4b8f-9d0a-0c6c2a1b9e11"
    data["add_goal"] = "1"
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jag vill sova bättre." in html and "Kvällspromenad" in html and "Ring Eva." in html
    form = response.context["form"]
    assert len(form.goals.forms) == 2
    assert len(form.goals.forms[1].actions.forms) == 2  # a new goal comes with two blank actions
    assert 'name="goal-1-text"' in html and 'id="goal-1"' in html
    assert "Formuläret har fel" not in html and "invalid-feedback" not in html
    # The same token goes on, so the save that follows is still the first.
    assert 'value="6f1c1d7e-8a8e-4b8f-9d0a-0c6c2a1b9e11"' in html
    assert not ActionPlan.objects.exists() and not Goal.objects.exists()
    assert not SubmitToken.objects.exists()


def test_adding_an_action_adds_it_under_that_goal_only(ss_client, housed):
    data = _post([("Mål A", ["a1"]), ("Mål B", ["b1"])], add_action="1")
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert [len(g.actions.forms) for g in form.goals.forms] == [1, 2]
    html = response.content.decode()
    assert 'name="goal-1-action-1-what"' in html and "b1" in html
    assert not ActionPlan.objects.exists()


@pytest.mark.parametrize("value", ["9", "-1", "x", ""])
def test_adding_an_action_to_a_goal_that_is_not_there_changes_nothing(ss_client, housed, value):
    response = ss_client.post(_url(housed), _post([("Mål A", ["a1"])], add_action=value))
    assert response.status_code == 200
    assert [len(g.actions.forms) for g in response.context["form"].goals.forms] == [1]


def test_the_added_rows_can_be_filled_in_and_saved(ss_client, housed):
    """Add a goal, then fill in what the new page shows and save."""
    first = ss_client.post(_url(housed), _post([("Mål A", ["a1"])], add_goal="1"))
    html = first.content.decode()
    assert 'name="goal-1-action-1-what"' in html
    data = _post([("Mål A", ["a1"]), ("Mål B", ["b1", "b2"])])
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 302
    assert _saved(housed) == [("Mål A", ["a1"]), ("Mål B", ["b1", "b2"])]


def test_a_goal_marked_for_removal_is_left_out_with_its_actions(ss_client, housed):
    data = _post(_three_by_three(), **{"goal-1-DELETE": "on"})
    # What the removed goal holds does not matter, even if it would be refused.
    data["goal-1-life_area"] = ""
    data["goal-1-action-0-who"] = ""
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 302
    expected = _three_by_three()
    del expected[1]
    assert _saved(housed) == expected


def test_an_action_marked_for_removal_is_left_out(ss_client, housed):
    data = _post(_three_by_three(), **{"goal-2-action-1-DELETE": "on"})
    assert ss_client.post(_url(housed), data).status_code == 302
    assert _saved(housed)[2] == ("Mål 2", ["Åtgärd 2.0", "Åtgärd 2.2"])


def test_removing_every_goal_is_refused(ss_client, housed):
    data = _post([("Mål A", ["a1"])], **{"goal-0-DELETE": "on"})
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 400
    assert "minst ett mål" in response.content.decode()
    assert not ActionPlan.objects.exists()


def test_the_remove_boxes_and_add_buttons_are_on_the_page_in_swedish(ss_client, housed):
    html = ss_client.get(_url(housed)).content.decode()
    assert html.count("Ta bort målet") == 2
    assert html.count("Ta bort åtgärden") == 4
    assert html.count('name="add_action"') == 2
    assert "Lägg till mål" in html and "Lägg till åtgärd" in html
    assert "<script" not in html.split("<form", 1)[1].split("</form>", 1)[0]


# --- Collaborating parties ---------------------------------------------------------------


def test_collaborating_parties_offered_are_the_persons_own_network_contacts(ss_client, housed):
    own = NetworkContactFactory(participant=housed, name="Eva Ek")
    other = NetworkContactFactory(name="Olle Okänd")
    response = ss_client.get(_url(housed))
    choices = response.context["form"].goals.forms[0].actions.forms[0].fields["partner"].choices
    assert [label for _value, label in choices] == ["Ingen", str(own)]
    html = response.content.decode()
    assert "Eva Ek" in html and "Olle Okänd" not in html
    assert other.pk not in [value for value, _label in choices]


def test_a_partner_from_someone_elses_network_is_refused_in_swedish(ss_client, housed):
    other = NetworkContactFactory()
    data = _post(
        [("Mål A", ["Följa upp"])],
        **{
            "goal-0-action-0-who": GoalAction.Who.PARTNER,
            "goal-0-action-0-partner": str(other.pk),
        },
    )
    response = ss_client.post(_url(housed), data)
    assert response.status_code == 400
    assert "Välj en samverkanspart bland deltagarens egna nätverkskontakter" in (
        response.content.decode()
    )
    assert not ActionPlan.objects.exists()


def test_a_partner_from_the_persons_network_is_saved(ss_client, housed):
    own = NetworkContactFactory(participant=housed)
    data = _post(
        [("Mål A", ["Följa upp"])],
        **{
            "goal-0-action-0-who": GoalAction.Who.PARTNER,
            "goal-0-action-0-partner": str(own.pk),
        },
    )
    assert ss_client.post(_url(housed), data).status_code == 302
    assert GoalAction.objects.get().partner == own


def test_without_network_contacts_the_page_says_so_and_links_to_adding_one(ss_client, housed):
    html = ss_client.get(_url(housed)).content.decode()
    assert "har inga nätverkskontakter" in html
    link = reverse("participants:network-contact-create", kwargs={"pk": housed.pk})
    assert re.search(rf'href="{re.escape(link)}\?next=[^"]*plans', html)


def test_a_contact_added_from_the_plan_page_leads_back_to_the_plan(ss_client, housed):
    url = reverse("participants:network-contact-create", kwargs={"pk": housed.pk})
    page = ss_client.get(url + "?next=" + _url(housed))
    token = re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', page.content.decode()).group(1)
    data = {
        "name": "Eva Ek",
        "relation": NetworkContact.Relation.FAMILY,
        TOKEN_FIELD: token,
    }
    response = ss_client.post(url + "?next=" + _url(housed), data)
    assert response.status_code == 302, response.content.decode()[:800]
    assert response["Location"] == _url(housed)
    assert "Eva Ek" in ss_client.get(_url(housed)).content.decode()


def test_a_next_to_another_site_is_ignored(ss_client, housed):
    url = reverse("participants:network-contact-create", kwargs={"pk": housed.pk})
    data = {"name": "Eva Ek", "relation": NetworkContact.Relation.FAMILY}
    response = ss_client.post(url + "?next=https://evil.example/", data)
    assert response.status_code == 302
    assert response["Location"].startswith(housed.get_absolute_url())
