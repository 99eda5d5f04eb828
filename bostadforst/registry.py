"""Extension points through which higher apps show their data on lower apps'
pages without an upward import (STYLE.md, "Layering").

Apps register in ``AppConfig.ready()``:

    from bostadforst.registry import participant_sections, timeline_sources
    participant_sections.register(ParticipantSection(...))
    timeline_sources.register(my_timeline_source)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class TimelineEvent:
    """One entry on a participant's timeline."""

    when: datetime | date
    kind: str  # short label, e.g. "Support visit"
    title: str
    url: str = ""
    detail: str = ""  # plain text, escaped by the template; never a journal note for SW
    sort_key: tuple = ()

    @property
    def sort_datetime(self) -> tuple:
        """Newest-first ordering key; a date counts as the start of its day."""
        value = self.when
        if isinstance(value, datetime):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
            return (value.date(), value.time(), *self.sort_key)
        return (value, time.min, *self.sort_key)


# A source returns at most ``limit`` events for the participant, newest first,
# in a fixed number of queries, showing only what ``user`` may see.
TimelineSource = Callable[..., list[TimelineEvent]]


@dataclass(frozen=True)
class ParticipantSection:
    """A panel on the participant page, e.g. the tenancy or the action plan."""

    key: str
    order: int
    template: str
    # context(participant, *, user) -> dict, in a fixed number of queries;
    # returns None when the user's role may not see the section.
    context: Callable[..., dict[str, Any] | None]


class Registry(list):
    def register(self, item):
        if item not in self:
            self.append(item)
        return item


participant_sections: Registry = Registry()
timeline_sources: Registry = Registry()
