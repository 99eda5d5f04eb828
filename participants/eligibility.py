"""The eligibility rules as pure functions (no database, no clock).

Helsingborg's six criteria (seeds/001): homeless; in need of substantial
support from social services because of addiction and/or mental illness;
registered in the municipality for two years; enrolled with the labour-market
or social-services administration; motivated; willing to keep regular contact
with the support team for two years.

Two of them the system can suggest from recorded data: residence (from the
registration date) and homelessness (from the housing situation, by
Socialstyrelsen's four situations and Stockholm's definition, seeds/004). The
assessor confirms or overrides every criterion; a suggestion is never stored
as an answer by itself.
"""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Answer, Criterion, HousingSituation, TemporaryArrangement

# Stockholm: staying with friends or acquaintances counts as homelessness for
# at most three months.
FRIENDS_MAX_MONTHS = 3


@dataclass(frozen=True)
class Suggestion:
    answer: str  # an Answer value
    reason: str


def residence_answer(registered_since: date | None, *, on: date, years: int) -> Suggestion:
    """Met when the person has been registered for at least ``years`` full years
    on ``on``. Exactly ``years`` years counts (registered 2024-11-23, read on
    2026-11-23: met). Calendar years as relativedelta counts them, so a
    registration on 29 February is two years old on 28 February."""
    if registered_since is None:
        return Suggestion(Answer.UNKNOWN, str(_("The registration date is not recorded.")))
    if registered_since > on:
        return Suggestion(Answer.UNKNOWN, str(_("The registration date is in the future.")))
    reached = registered_since + relativedelta(years=years)
    params = {"years": years, "date": reached.isoformat()}
    if reached <= on:
        return Suggestion(
            Answer.MET,
            str(_("Registered for at least %(years)s years (since %(date)s).") % params),
        )
    return Suggestion(
        Answer.NOT_MET,
        str(_("Registered for less than %(years)s years; reached on %(date)s.") % params),
    )


def homeless_answer(
    housing_situation: str,
    temporary_arrangement: str,
    situation_since: date | None,
    *,
    on: date,
) -> Suggestion:
    """Socialstyrelsen's situations 1–3 count as homelessness. In situation 4
    (a short-term own arrangement) Stockholm counts staying with friends for at
    most three months, and never a second-hand sublet or lodging with
    relatives."""
    if housing_situation in {
        HousingSituation.ACUTE,
        HousingSituation.INSTITUTION,
        HousingSituation.SOCIAL_SOLUTION,
    }:
        return Suggestion(
            Answer.MET, str(_("The housing situation is one of Socialstyrelsen's situations 1–3."))
        )
    if housing_situation == HousingSituation.NOT_HOMELESS:
        return Suggestion(Answer.NOT_MET, str(_("Recorded as not homeless.")))
    if housing_situation != HousingSituation.SHORT_TERM_OWN:
        return Suggestion(Answer.UNKNOWN, str(_("The housing situation is not recorded.")))
    if temporary_arrangement in {TemporaryArrangement.SECOND_HAND, TemporaryArrangement.RELATIVES}:
        return Suggestion(
            Answer.NOT_MET,
            str(
                _("A second-hand sublet or lodging with relatives does not count as homelessness.")
            ),
        )
    if temporary_arrangement == TemporaryArrangement.FRIENDS:
        if situation_since is None:
            return Suggestion(
                Answer.UNKNOWN,
                str(
                    _(
                        "Staying with friends counts for at most three months: "
                        "the start is not recorded."
                    )
                ),
            )
        limit = situation_since + relativedelta(months=FRIENDS_MAX_MONTHS)
        if on <= limit:
            return Suggestion(
                Answer.MET, str(_("Staying with friends for at most three months counts."))
            )
        return Suggestion(
            Answer.NOT_MET,
            str(_("Staying with friends for more than three months does not count.")),
        )
    return Suggestion(Answer.UNKNOWN, str(_("Assess the temporary arrangement.")))


def suggestions(referral, *, on: date, years: int) -> dict[str, Suggestion]:
    """What the recorded data suggests for the two computable criteria."""
    return {
        Criterion.HOMELESS: homeless_answer(
            referral.housing_situation,
            referral.temporary_arrangement,
            referral.situation_since,
            on=on,
        ),
        Criterion.RESIDENCE: residence_answer(
            referral.participant.registered_since, on=on, years=years
        ),
    }


def all_met(answers: dict[str, str]) -> bool:
    """True when every one of the six criteria is answered ``met``."""
    return all(answers.get(criterion) == Answer.MET for criterion in Criterion.values)


def criterion_label(criterion: str, *, years: int) -> str:
    """The criterion as shown to the team, with the residence requirement's
    number of years (a setting) spelled out."""
    if criterion == Criterion.RESIDENCE:
        return ngettext(
            "Registered in the municipality for at least %(years)s year",
            "Registered in the municipality for at least %(years)s years",
            years,
        ) % {"years": years}
    return str(Criterion(criterion).label)
