"""Factories for the fidelity scale and assessments (through the service, so
that every row has its history and access-log row)."""

import datetime

import factory
from factory.django import DjangoModelFactory

from fidelity.models import Assessment, Domain, Item
from fidelity.services import assessment_create


class DomainFactory(DjangoModelFactory[Domain]):
    class Meta:
        model = Domain

    name = factory.Sequence(lambda n: f"Testdomän {n}")
    order = factory.Sequence(lambda n: 100 + n)


class ItemFactory(DjangoModelFactory[Item]):
    class Meta:
        model = Item

    domain = factory.SubFactory(DomainFactory)
    text = factory.Sequence(lambda n: f"Testpåstående {n}")
    order = factory.Sequence(lambda n: n)
    scale_min = 1
    scale_max = 4


def make_assessment(
    *, by, date: datetime.date, value: int | None = None, staff=(), items=None
) -> Assessment:
    """An assessment on ``date`` scoring every active item (or ``items``) at
    ``value`` (default: the item's highest score)."""
    from fidelity.selectors import active_items

    items = list(active_items()) if items is None else items
    return assessment_create(
        date=date,
        staff=list(staff),
        external_count=0,
        external_description="",
        scores={item: (item.scale_max if value is None else value, "") for item in items},
        acting_user=by,
    )
