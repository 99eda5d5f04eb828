"""Who changed what and when: a case record's history in words."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import pgettext_lazy

ACTIONS = {
    "+": pgettext_lazy("change history", "created"),
    "~": pgettext_lazy("change history", "changed"),
    "-": pgettext_lazy("change history", "deleted"),
}
HIDDEN_FIELDS = {"version", "updated_at", "created_at"}


@dataclass(frozen=True)
class HistoryRow:
    when: datetime
    who: str
    action: str
    fields: list[str] = field(default_factory=list)


def change_history(obj, *, limit: int = 20) -> list[HistoryRow]:
    """The newest ``limit`` changes of ``obj``, each with the fields it changed
    (by label, never by value: the page may be read by someone who may see the
    record but the history row is not the place to repeat its contents).

    Two queries: the history rows (with their users) and nothing else; the
    previous row of each is the next one in the same list (``limit + 1`` read).
    """
    model = type(obj)
    records = list(
        model.history.filter(id=obj.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    rows = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        names: list[str] = []
        if record.history_type == "~" and previous is not None:
            delta = record.diff_against(previous)
            names = [
                str(model._meta.get_field(change.field).verbose_name)
                for change in delta.changes
                if change.field not in HIDDEN_FIELDS
            ]
        rows.append(
            HistoryRow(
                when=record.history_date,
                who=str(record.history_user) if record.history_user else "",
                action=str(ACTIONS.get(record.history_type, record.history_type)),
                fields=names,
            )
        )
    return rows
