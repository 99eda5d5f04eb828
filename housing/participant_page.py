"""What the housing app shows on the participant page (through
``bostadforst.registry``; participants cannot import housing)."""

from django.utils.translation import gettext

from bostadforst.registry import ParticipantSection, TimelineEvent
from bostadforst.roles import TEAM, role_of

from . import selectors
from .models import ContractType


def tenancy_section_context(participant, *, user) -> dict | None:
    """The participant's tenancies and open incidents: two queries."""
    if role_of(user) not in TEAM:
        return None
    tenancies = selectors.tenancy_list_for_participant(user=user, participant=participant)
    current = next((t for t in tenancies if t.is_ongoing), None)
    open_incidents = [i for t in tenancies for i in t.incidents.all() if i.is_open]
    return {
        "housing_tenancies": tenancies,
        "housing_current": current,
        "housing_open_incidents": open_incidents,
        "housing_eviction_risk": any(i.is_eviction_risk for i in open_incidents),
        "housing_participant": participant,
    }


def housing_timeline(participant, *, user, limit: int = 50, **kwargs) -> list[TimelineEvent]:
    """Move-ins, takeovers, move-outs and incidents, newest first (two queries)."""
    if role_of(user) not in TEAM:
        return []
    events: list[TimelineEvent] = []
    for tenancy in selectors.tenancy_list_for_participant(user=user, participant=participant):
        url = tenancy.get_absolute_url()
        address = tenancy.apartment.address
        contract = (
            gettext("social contract")
            if tenancy.contract_type == ContractType.SOCIAL
            else gettext("first-hand contract")
        )
        events.append(
            TimelineEvent(
                when=tenancy.move_in,
                kind=gettext("Move-in"),
                title=address,
                url=url,
                detail=contract,
                sort_key=(1, tenancy.pk),
            )
        )
        if tenancy.takeover:
            events.append(
                TimelineEvent(
                    when=tenancy.takeover,
                    kind=gettext("Contract takeover"),
                    title=address,
                    url=url,
                    sort_key=(2, tenancy.pk),
                )
            )
        if tenancy.move_out:
            events.append(
                TimelineEvent(
                    when=tenancy.move_out,
                    kind=gettext("Move-out"),
                    title=address,
                    url=url,
                    detail=str(tenancy.get_exit_reason_display()),
                    sort_key=(0, tenancy.pk),
                )
            )
        for incident in tenancy.incidents.all():
            events.append(
                TimelineEvent(
                    when=incident.occurred_on,
                    kind=gettext("Tenancy incident"),
                    title=str(incident.get_kind_display()),
                    url=url,
                    detail=gettext("open") if incident.is_open else gettext("resolved"),
                    sort_key=(3, incident.pk),
                )
            )
    events.sort(key=lambda e: e.sort_datetime, reverse=True)
    return events[:limit]


tenancy_section = ParticipantSection(
    key="housing",
    order=20,
    template="housing/_partials/participant_section.html",
    context=tenancy_section_context,
)
