"""Demo data for the fidelity app: two self-assessments of the demo team, half
a year apart, on the default scale. Deterministic and idempotent: an
assessment is made only when its date has none."""

import importlib
import random
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from .models import Assessment, Domain
from .selectors import active_items
from .services import assessment_create

COMMENTS = {
    0: "Vi väntar fortfarande på fler lägenheter från hyresvärdarna.",
    3: "Jourtelefonen täcker inte helgnätter ännu.",
}


def seed(*, users) -> None:
    manager = users["enhetschef"]
    staff = [users["boendestodjare"], users["boendestodjare2"], manager]
    if not Domain.objects.exists():
        # The default scale is a data migration's; a database emptied since
        # (flush) gets it again, as a new installation has it.
        importlib.import_module("fidelity.migrations.0002_seed_default_scale").seed(apps, None)
    items = list(active_items())
    if not items:
        return
    today = timezone.localdate()
    # The later one scores a little higher: the team has moved towards the model.
    for months_ago, lift in ((12, 0), (6, 1)):
        day = today - timedelta(days=30 * months_ago)
        if Assessment.objects.filter(date=day).exists():
            continue
        rng = random.Random(f"fidelity-{months_ago}")
        scores = {}
        for index, item in enumerate(items):
            value = min(item.scale_max, rng.randint(item.scale_min + 1, item.scale_max) + lift - 1)
            comment = COMMENTS.get(index % 5, "") if index < 10 and months_ago == 12 else ""
            scores[item] = (max(item.scale_min, value), comment)
        assessment_create(
            date=day,
            staff=staff,
            external_count=1,
            external_description="En representant för hyresvärden",
            scores=scores,
            acting_user=manager,
        )
