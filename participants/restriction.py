"""Restricted processing (GDPR art. 18): a person's case "under utredning av
rättelse".

When a person contests the accuracy of their data, a unit manager restricts
the processing of it while the request is looked into, with a reason, and
lifts the restriction when it is settled. While it lasts:

* every write of a record of the person is refused by the one write path
  (``bostadforst.records.record_save`` and the bulk writes ask
  ``restrictions_of`` through ``bostadforst.registry``), except the
  correction itself: the person's details (``services.participant_update``),
  a journal correction, which is a new entry linked to the one it corrects
  (``support.services.visit_correct``), and the lifting here. Those pass
  ``restriction_exempt=True`` to ``record_save``, and so does a new referral
  only linked to the person until the team confirms it (``referral_create``:
  refusing it would tell the referring social worker whom the team knows);
  nothing else does;
* every page that shows a record of the person shows a banner with the date
  and the reason (``templates/_partials/processing_restriction.html``).

The restriction lives on the participant row (``processing_restricted_since``,
``processing_restriction_reason``), so its history (who set and lifted it,
when, and why) is the participant's change history, and it is culled with the
person.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_save
from bostadforst.registry import ProcessingRestriction
from bostadforst.roles import Role, role_of

from .models import Participant

ERRORS = {
    "already_restricted": _("The processing of this person's data is already restricted."),
    "not_restricted": _("The processing of this person's data is not restricted."),
    "reason_required": _("Write why the processing is restricted."),
}


def restrictions_of(*, person_ids) -> dict[int, ProcessingRestriction]:
    """The restrictions in force among ``person_ids``, in one query (the
    source registered in ``bostadforst.registry``). Read with
    ``values_list``: the reason and date are not identity data, and the
    write path must see the row as stored, masked or not."""
    ids = list(person_ids)
    # One person (every single save) by the primary key; no sorting needed.
    which = {"pk": ids[0]} if len(ids) == 1 else {"pk__in": ids}
    rows = (
        Participant._base_manager.filter(**which, processing_restricted_since__isnull=False)
        .order_by()
        .values_list("pk", "processing_restricted_since", "processing_restriction_reason")
    )
    return {
        pk: ProcessingRestriction(person_id=pk, since=since, reason=reason)
        for pk, since, reason in rows
    }


def _require_manager(user) -> None:
    if role_of(user) != Role.UNIT_MANAGER:
        raise PermissionDenied


def _locked(participant: Participant) -> Participant:
    """``participant`` as it is now, its row locked until the transaction
    ends: two managers acting at once are applied one after the other, and
    nothing another user saved since the page was read is overwritten."""
    Participant._base_manager.select_for_update().filter(pk=participant.pk).first()
    participant.refresh_from_db()
    return participant


@transaction.atomic
def processing_restrict(*, participant: Participant, reason: str, acting_user) -> Participant:
    """Restrict the processing of ``participant``'s data from now, because of
    ``reason`` (shown in the banner and kept in the history)."""
    _require_manager(acting_user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [ValidationError(ERRORS["reason_required"], "required")]})
    participant = _locked(participant)
    if participant.processing_restricted_since is not None:
        raise ValidationError(ERRORS["already_restricted"], code="already_restricted")
    participant.processing_restricted_since = timezone.now()
    participant.processing_restriction_reason = reason
    return record_save(
        participant,
        acting_user=acting_user,
        # The history's reason column holds 100 characters: the full reason
        # is in the row itself, which the history keeps.
        reason=gettext("Processing restricted (GDPR art. 18)"),
    )


@transaction.atomic
def processing_restriction_lift(
    *, participant: Participant, outcome: str, acting_user
) -> Participant:
    """Lift the restriction of ``participant``'s processing. ``outcome`` (at
    most 100 characters: what the investigation found) is the change reason
    of the history row; the restriction's own reason stays in the history
    row that set it."""
    _require_manager(acting_user)
    participant = _locked(participant)
    if participant.processing_restricted_since is None:
        raise ValidationError(ERRORS["not_restricted"], code="not_restricted")
    participant.processing_restricted_since = None
    participant.processing_restriction_reason = ""
    # The lifting is the one change of a restricted person that is not a
    # correction of their data, and must pass the write path's refusal.
    return record_save(
        participant,
        acting_user=acting_user,
        reason=(outcome or "").strip()[:100] or gettext("Restriction lifted"),
        restriction_exempt=True,
    )
