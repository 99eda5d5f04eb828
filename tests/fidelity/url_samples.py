"""Arguments and POST data for the fidelity URLs, for the walking tests."""

from datetime import timedelta

from django.utils import timezone

from fidelity.models import Assessment
from fidelity.selectors import active_items


def _assessment(world) -> Assessment:
    """The demo's latest assessment, which the demo support worker took part in."""
    return Assessment.objects.filter(staff=world.support_staff).order_by("-date").first()


def _free_date():
    day = timezone.localdate()
    taken = set(Assessment.objects.values_list("date", flat=True))
    while day in taken:
        day -= timedelta(days=1)
    return day


def _assessment_create(world) -> dict:
    data = {
        "date": _free_date().isoformat(),
        "staff": [str(world.support_staff.pk)],
        "external_count": "1",
        "external_description": "En från hyresvärden",
    }
    for item in active_items():
        data[f"item_{item.pk}"] = str(item.scale_max)
        data[f"comment_{item.pk}"] = ""
    return data


SAMPLES = {
    "fidelity:assessment-detail": lambda world: {"pk": _assessment(world).pk},
    "fidelity:assessment-pdf": lambda world: {"pk": _assessment(world).pk},
}

FORM_SAMPLES = {
    "fidelity:assessment-create": _assessment_create,
}
