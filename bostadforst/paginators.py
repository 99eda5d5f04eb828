"""A paginator for tables that only grow (the access log)."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts the rows only up to ``cap`` (one ``COUNT`` over at most
    ``cap + 1`` rows, through the ordering's index), so a page of the newest
    rows costs the same at a million rows as at a thousand. Beyond the cap
    the last pages are not offered: ``capped`` says so, and a filter narrows
    the rows below it."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _capped_count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.cap)

    @property
    def capped(self) -> bool:
        """Whether there are more rows than ``count``."""
        return self._capped_count > self.cap
