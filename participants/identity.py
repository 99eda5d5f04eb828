"""Whose identity a viewer may not see (``bostadforst.identity``): protected
people the viewer is not named for. Unit managers decide on protection and
name the staff, so they see every identity; their reads are logged and
flagged like everyone's."""

from bostadforst.identity import Viewer
from bostadforst.roles import Role, role_of

from .models import Participant


def hidden_people(viewer: Viewer) -> list[int]:
    """Ids of the protected people ``viewer`` may not see, in one query."""
    if viewer.user_id is not None and role_of(viewer.user) == Role.UNIT_MANAGER:
        return []
    protected = Participant.objects.protected()
    if viewer.user_id is not None:
        protected = protected.exclude(identity_access=viewer.user_id)
    return list(protected.values_list("pk", flat=True))
