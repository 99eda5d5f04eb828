"""Who belongs to a user's own caseload, for the access-log review.

A support worker's caseload is the participants assigned to them; a social
worker's is the people they referred. Other roles work across all cases, so
the check has no opinion about them (they are left out of its answer).
"""

from django.db.models import Value

from bostadforst.roles import Role, role_of

from .models import Participant, Referral


def caseload_check(*, readers: dict) -> dict[int, set[int]]:
    """By user id, the people each support worker or social worker among
    ``readers`` (user -> person ids read) has in their caseload.

    One query whatever the readers: both caseload rules in one UNION, with
    [0] (no row has id 0) keeping each IN list non-empty, since Django skips
    the query for an empty one. Roles come from ``role_of``'s cache, filled
    for all readers at once by the caller.
    """
    support = {u.pk: ids for u, ids in readers.items() if role_of(u) == Role.SUPPORT_STAFF}
    social = {u.pk: ids for u, ids in readers.items() if role_of(u) == Role.SOCIAL_WORKER}
    support_people = set().union(*support.values()) or {0}
    social_people = set().union(*social.values()) or {0}
    assigned = (
        Participant.objects.filter(
            pk__in=support_people, support_worker_id__in=list(support) or [0]
        )
        .order_by()
        .values_list(Value("s"), "support_worker_id", "pk")
    )
    referred = (
        Referral.objects.filter(
            participant_id__in=social_people, referred_by_id__in=list(social) or [0]
        )
        .order_by()
        .values_list(Value("r"), "referred_by_id", "participant_id")
    )
    own: dict[int, set[int]] = {user_id: set() for user_id in (*support, *social)}
    for rule, user_id, person_id in assigned.union(referred, all=True):
        mine = support if rule == "s" else social
        if user_id in mine and person_id in mine[user_id]:
            own[user_id].add(person_id)
    return own
