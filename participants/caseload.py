"""Who belongs to a user's own caseload, for the access-log review.

A support worker's caseload is the participants assigned to them; a social
worker's is the people they referred. Other roles work across all cases, so
the check has no opinion about them (None).
"""

from bostadforst.roles import Role, role_of

from .models import Participant, Referral


def caseload_check(*, user, person_ids: set[int]) -> set[int] | None:
    role = role_of(user)
    if not person_ids:
        return set() if role in {Role.SUPPORT_STAFF, Role.SOCIAL_WORKER} else None
    if role == Role.SUPPORT_STAFF:
        return set(
            Participant.objects.filter(pk__in=person_ids, support_worker=user).values_list(
                "pk", flat=True
            )
        )
    if role == Role.SOCIAL_WORKER:
        return set(
            Referral.objects.filter(participant_id__in=person_ids, referred_by=user).values_list(
                "participant_id", flat=True
            )
        )
    return None
