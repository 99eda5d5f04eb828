"""The housing demo: every exit reason, takeovers, open eviction risks."""

import io

import pytest
from django.core.management import call_command

from housing.models import Apartment, ExitReason, Tenancy, TenancyIncident
from housing.selectors import eviction_risk_list
from participants.models import ParticipantStatus


@pytest.mark.django_db
def test_the_demo_lets_apartments_with_every_exit_reason(unit_manager):
    call_command("seed_demo", "--password", "demo-lösen-123", stdout=io.StringIO())
    assert Apartment.objects.count() >= 20
    assert set(Apartment.objects.values_list("landlord__name", flat=True)) == {
        "Sandvikenhus",
        "Heimstaden",
        "Svenska bostäder",
    }
    assert set(Tenancy.objects.exclude(exit_reason="").values_list("exit_reason", flat=True)) == (
        set(ExitReason.values)
    )
    assert Tenancy.objects.filter(move_out__isnull=True).count() >= 5
    assert Tenancy.objects.filter(takeover__isnull=False).exists()
    assert eviction_risk_list(user=unit_manager).exists()
    assert TenancyIncident.objects.filter(resolved_on__isnull=False).exists()
    for tenancy in Tenancy.objects.filter(move_out__isnull=True).select_related("participant"):
        assert tenancy.participant.status == ParticipantStatus.HOUSED


@pytest.mark.django_db
def test_the_demo_names_units_and_providers_once(unit_manager):
    from housing.models import Provider
    from participants.models import Referral, ReferringUnit

    for _ in range(2):
        call_command("seed_demo", "--password", "demo-lösen-123", stdout=io.StringIO())
    assert set(ReferringUnit.objects.values_list("name", flat=True)) == {
        "Stadsdelsförvaltning Norr",
        "Stadsdelsförvaltning Söder",
    }
    assert set(Provider.objects.values_list("name", flat=True)) == {
        "Kommunens Bostad först-team",
        "Stadsmissionen (IOP)",
    }
    units = Referral.objects.exclude(referring_unit=None).values_list("referring_unit", flat=True)
    assert len(set(units)) == 2
    providers = Tenancy.objects.exclude(provider=None).values_list("provider", flat=True)
    assert len(set(providers)) == 2
    # Every referral and every tenancy of the demo's own people names one (none
    # is restricted there); imported history (the municipality's references)
    # has no provider, as an import without that column.
    assert not Referral.objects.filter(referring_unit=None).exists()
    assert not Tenancy.objects.filter(
        provider=None, participant__external_ref__isnull=True
    ).exists()
    assert Tenancy.objects.filter(provider=None, participant__external_ref__isnull=False).exists()
