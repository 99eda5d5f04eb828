"""Signal receivers: each history row of a case model becomes an access-log row.

simple-history writes the history row in the same transaction as the change,
so the audit row commits (or rolls back) together with it.
"""

from django.db.models.signals import post_migrate
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record

from .access_log import log_access
from .models import AccessLogEntry, CaseModel
from .roles import ROLE_MODEL_PERMISSIONS

_ACTIONS = {
    "+": AccessLogEntry.Action.CREATE,
    "~": AccessLogEntry.Action.UPDATE,
    "-": AccessLogEntry.Action.DELETE,
}


@receiver(post_create_historical_record)
def log_case_change(sender, instance, history_instance, **kwargs) -> None:
    if not isinstance(instance, CaseModel):
        return
    request = getattr(HistoricalRecords.context, "request", None)
    log_access(
        action=_ACTIONS[history_instance.history_type],
        request=request,
        user=history_instance.history_user,
        obj=instance,
        person_id=instance.participant_pk(),
    )


@receiver(post_migrate)
def sync_role_permissions(sender, **kwargs) -> None:
    """Give each role group exactly the model permissions ``roles.py`` declares.

    Runs after every ``migrate`` (once per app; cheap and idempotent), so the
    declaration in ``ROLE_MODEL_PERMISSIONS`` is the single source of truth.
    """
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    for role, patterns in ROLE_MODEL_PERMISSIONS.items():
        group = Group.objects.using(using).filter(name=role.value).first()
        if group is None:
            continue
        wanted = []
        for pattern in patterns:
            app_label, codename = pattern.split(".", 1)
            perms = Permission.objects.using(using).filter(content_type__app_label=app_label)
            if codename != "*":
                perms = perms.filter(codename=codename)
            wanted.extend(perms)
        group.permissions.set(wanted)
