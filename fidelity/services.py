"""Writes of the fidelity self-assessment, through the one write path."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_bulk_create, record_save

from .models import Assessment, Item, Score

DATE_TAKEN = _(
    "There is already a fidelity assessment on %(date)s. Choose another date or open that one."
)
SCORE_OUT_OF_RANGE = _("Choose a score from %(min)s to %(max)s.")


@transaction.atomic
def assessment_create(
    *,
    date: datetime.date,
    staff: Iterable,
    external_count: int,
    external_description: str,
    scores: dict[Item, tuple[int, str]],
    acting_user,
) -> Assessment:
    """Record the team's assessment on ``date`` with a score (and a comment)
    for each item in ``scores``: the assessment, who took part and every score
    in one transaction, each with its history and access-log row.

    One assessment per date: a second one is refused with a form error on the
    date (the unique index is the last word when two are sent at once).
    """
    if Assessment.objects.filter(date=date).exists():
        raise ValidationError(
            {
                "date": ValidationError(
                    DATE_TAKEN, code="date_taken", params={"date": f"{date:%Y-%m-%d}"}
                )
            }
        )
    for item, (value, _comment) in scores.items():
        if not item.scale_min <= value <= item.scale_max:
            raise ValidationError(
                {
                    f"item_{item.pk}": ValidationError(
                        SCORE_OUT_OF_RANGE,
                        code="out_of_range",
                        params={"min": item.scale_min, "max": item.scale_max},
                    )
                }
            )
    assessment = Assessment(
        date=date,
        external_count=external_count or 0,
        external_description=external_description,
        recorded_by=acting_user,
    )
    record_save(assessment, acting_user=acting_user, m2m={"staff": list(staff)})
    # Values validated above; full_clean per row would ask the database per row.
    record_bulk_create(
        Score,
        [
            Score(assessment=assessment, item=item, value=value, comment=comment)
            for item, (value, comment) in scores.items()
        ],
        acting_user=acting_user,
        clean=False,
    )
    return assessment
