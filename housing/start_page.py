"""The housing app's work-queue item on the start page
(``bostadforst.registry.start_page_queues``): the unit manager's vacant
apartments and how long the longest has stood empty. The count is taken
from the apartment list's own selector with its "vacant" filter, so the list
its link opens shows exactly those rows; one aggregate query.
"""

from django.db.models import Count, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of

from .models import Tenancy
from .selectors import Occupancy, apartment_list


def vacancy(*, user, today) -> dict:
    """How many apartments are vacant on ``today`` and since when the longest
    has been: since its last tenant's move-out, or since it was registered
    when it has never been let."""
    last_move_out = (
        Tenancy.objects.filter(apartment=OuterRef("pk"), move_out__isnull=False)
        .order_by("-move_out")
        .values("move_out")[:1]
    )
    return (
        apartment_list(user=user, occupancy=Occupancy.VACANT, day=today)
        .annotate(vacant_since=Coalesce(Subquery(last_move_out), TruncDate("created_at")))
        .aggregate(count=Count("pk"), oldest=Min("vacant_since"))
    )


def housing_queue(*, user, today) -> list[QueueItem]:
    if role_of(user) != Role.UNIT_MANAGER:
        return []
    vacant = vacancy(user=user, today=today)
    days = max(0, (today - vacant["oldest"]).days) if vacant["oldest"] else None
    return [
        QueueItem(
            key="vacant-apartments",
            order=40,
            title=gettext("Vacant apartments"),
            count=vacant["count"],
            explanation=gettext("Apartments in use with no tenant today."),
            detail=(
                ngettext(
                    "The longest has stood empty %(days)s day.",
                    "The longest has stood empty %(days)s days.",
                    days,
                )
                % {"days": days}
                if days is not None
                else ""
            ),
            url=f"{reverse('housing:apartment-list')}?occupancy={Occupancy.VACANT}",
            link_text=gettext("Show the vacant apartments"),
        )
    ]
