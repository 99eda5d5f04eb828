"""Arguments for every support URL that takes one, for the walking tests."""

from participants.models import Participant, ParticipantStatus
from support.models import ActionPlan, Activity, CrisisPlacement, SupportVisit


def _housed(world):
    return Participant.objects.filter(status=ParticipantStatus.HOUSED).order_by("pk").first()


def _visit(world):
    return SupportVisit.objects.order_by("pk").first()


def _plan(world):
    return ActionPlan.objects.order_by("pk").first()


def _placement(world):
    return CrisisPlacement.objects.order_by("end", "pk").first()


def _activity(world):
    return Activity.objects.order_by("pk").first()


SAMPLES = {
    "support:visit-detail": lambda world: {"pk": _visit(world).pk},
    "support:visit-edit": lambda world: {"pk": _visit(world).pk},
    "support:visit-sign": lambda world: {"pk": _visit(world).pk},
    "support:visit-correct": lambda world: {"pk": _visit(world).pk},
    "support:visit-list": lambda world: {"participant_pk": _housed(world).pk},
    "support:plan-list": lambda world: {"participant_pk": _housed(world).pk},
    "support:plan-create": lambda world: {"participant_pk": _housed(world).pk},
    "support:plan-detail": lambda world: {"pk": _plan(world).pk},
    "support:plan-print": lambda world: {"pk": _plan(world).pk},
    "support:plan-pdf": lambda world: {"pk": _plan(world).pk},
    "support:placement-detail": lambda world: {"pk": _placement(world).pk},
    "support:placement-end": lambda world: {"pk": _placement(world).pk},
    "support:activity-detail": lambda world: {"pk": _activity(world).pk},
    "support:activity-attendance": lambda world: {"pk": _activity(world).pk},
}
