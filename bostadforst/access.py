"""Fetching one record of a person for a user: scope, authorise and log together.

``get_object_or_404_logged`` is the helper selectors use for
``<entity>_get_for_user``: a record outside the user's scoped queryset answers
404, the same answer as a missing one (so ids cannot be probed), and when the
record exists but is not the user's to see, the attempt is written to the access
log as ``denied`` with the person's id. A found record is logged as a read.
"""

import contextlib

from django.db import models
from django.http import Http404

from .access_log import log_access, log_denied, log_read
from .models import AccessLogEntry


def _split(request_or_user):
    """(request, user) from either a request or a user."""
    if hasattr(request_or_user, "META") and hasattr(request_or_user, "user"):
        return request_or_user, request_or_user.user
    return None, request_or_user


def _person_id(obj: models.Model) -> int | None:
    return obj.participant_pk() if hasattr(obj, "participant_pk") else None


def get_object_or_404_logged(
    request_or_user, queryset: models.QuerySet, *, log_found: bool = True, **lookup
):
    """The row of the user-scoped ``queryset`` matching ``lookup``, else Http404.

    ``queryset`` must already be scoped to what the user may see. When it lacks
    the row but the model's unscoped manager has it, a ``denied`` row naming
    the person is logged before the 404. ``log_found=False`` skips the read
    row for callers that log the read themselves (``AuditedObjectMixin``).
    """
    request, user = _split(request_or_user)
    try:
        obj = queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        hidden = None
        with contextlib.suppress(ValueError, TypeError):
            hidden = queryset.model._base_manager.filter(**lookup).first()
        if hidden is not None:
            if request is not None:
                log_denied(request, model=hidden._meta.label, person_id=_person_id(hidden))
            else:
                log_access(
                    action=AccessLogEntry.Action.DENIED,
                    user=user,
                    model=hidden._meta.label,
                    person_id=_person_id(hidden),
                )
        raise Http404(queryset.model._meta.object_name) from exc
    if log_found:
        if request is not None:
            log_read(request, obj)
        else:
            log_access(action=AccessLogEntry.Action.READ, user=user, obj=obj)
    return obj
