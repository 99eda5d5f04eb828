"""The reports demo seed: a valid historical cohort and one finished report, idempotent."""

import pytest

from housing.models import Tenancy
from reports import demo
from reports.cohort import cohort_import
from reports.models import Report


@pytest.mark.django_db
def test_demo_seed_is_valid_and_idempotent(unit_manager):
    assert cohort_import(data=demo.cohort_csv().encode(), filename="demo.csv", commit=False).ok
    demo.seed(users={"enhetschef": unit_manager})
    tenancies, reports = Tenancy.objects.count(), Report.objects.count()
    demo.seed(users={"enhetschef": unit_manager})
    assert (Tenancy.objects.count(), Report.objects.count()) == (tenancies, reports)
    assert Report.objects.get().state == Report.State.DONE
