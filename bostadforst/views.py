import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import TemplateView

from .access_log import log_access
from .exports import download_response
from .forms import AccessLogFilterForm
from .health import health
from .log_review import filter_log, flag_unusual
from .models import AccessLogEntry
from .paginators import CappedPaginator
from .registry import person_names, start_page, start_page_queue
from .roles import role_of
from .scope import current_limits, scope_people


def home(request):
    """The start page: the work queues of the user's role (a count and a link
    to the filtered list each), the registered blocks, then the quick links.
    A fixed number of queries whatever the data (``start_page_queues``)."""
    role = role_of(request.user)
    queue = start_page_queue(user=request.user)
    blocks = start_page(user=request.user)
    return render(
        request, "bostadforst/home.html", {"role": role, "queue": queue, "blocks": blocks}
    )


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Readiness for the load balancer and monitoring: the database, the cache
    (and broker) and a Celery worker's recent heartbeat (bostadforst.health);
    200 when all are up, 503 naming what is down."""
    up, body = health()
    return JsonResponse(body, status=200 if up else 503)


@require_http_methods(["GET", "POST"])
def session_ping(request):
    """GET: seconds left before the idle logout (does not count as activity,
    see ``SessionLimitsMiddleware``). POST: the user chose to continue."""
    last = request.session.get("last_activity", int(time.time()))
    remaining = max(0, settings.SESSION_IDLE_TIMEOUT - (int(time.time()) - last))
    return JsonResponse({"idle_timeout": settings.SESSION_IDLE_TIMEOUT, "remaining": remaining})


class AccessLogView(TemplateView):
    """The manager's log review: who read or changed which person's record,
    filtered by user, person and period, with unusual access flagged.

    Reading the log is itself logged (with the person filtered on, if any).
    """

    template_name = "bostadforst/access_log.html"
    paginate_by = 50
    # The log only grows (1.3 million rows at N = 10,000): an exact count of
    # every row took 0.2 s on each page; past this many, "more than".
    count_cap = 10_000

    def get_filtered(self):
        form = AccessLogFilterForm(self.request.GET or None)
        queryset = AccessLogEntry.objects.select_related("user")
        if current_limits():
            # A manager with a row scope reviews the reads of their own
            # people only (bostadforst.scope), not everyone's or the staff's.
            queryset = scope_people(queryset, person_path="person_id")
        if form.is_bound and form.is_valid():
            queryset = filter_log(queryset, **form.cleaned_data)
        elif form.is_bound:
            queryset = queryset.none()
        return form, queryset

    def get(self, request, *args, **kwargs):
        form, queryset = self.get_filtered()
        paginator = CappedPaginator(queryset, self.paginate_by, cap=self.count_cap)
        page = paginator.get_page(request.GET.get("page"))
        # Sliced here rather than through page.object_list: for an empty
        # page Paginator slices [0:0], which Django answers without a query,
        # and the page's query count must not depend on the data.
        offset = (page.number - 1) * self.paginate_by
        entries = list(queryset[offset : offset + self.paginate_by])
        page.object_list = entries
        flags = flag_unusual(entries)
        names = person_names(entry.person_id for entry in entries if entry.person_id)
        for entry in entries:
            entry.person_name = names.get(entry.person_id, "")
        rows = [(entry, flags.get(entry.pk, [])) for entry in entries]
        person = form.cleaned_data.get("person") if form.is_bound and form.is_valid() else None
        log_access(
            action=AccessLogEntry.Action.READ,
            request=request,
            model=AccessLogEntry._meta.label,
            person_id=person,
        )
        query = request.GET.copy()
        query.pop("page", None)
        context = self.get_context_data(
            form=form,
            page_obj=page,
            rows=rows,
            query=query.urlencode(),
            burst_persons=settings.ACCESS_LOG_BURST_PERSONS,
            burst_minutes=settings.ACCESS_LOG_BURST_MINUTES,
        )
        return self.render_to_response(context, status=400 if form.errors else 200)


class AccessLogExportView(AccessLogView):
    """The filtered log as CSV (UTF-8 with BOM, semicolons: opens in Swedish
    Excel) or .xlsx, headed by the fields' Swedish names; the values are the
    stored codes, times in Europe/Stockholm to the second."""

    COLUMNS = [
        "at",
        "username",
        "role",
        "action",
        "model",
        "object_id",
        "person_id",
        "view_name",
        "ip",
    ]

    def get(self, request, *args, fmt: str = "csv", **kwargs):
        form, queryset = self.get_filtered()
        if form.errors:
            return HttpResponseBadRequest(gettext("Invalid filter."))
        person = form.cleaned_data.get("person") if form.is_bound else None
        log_access(
            action=AccessLogEntry.Action.EXPORT,
            request=request,
            model=AccessLogEntry._meta.label,
            person_id=person,
        )
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        header = [
            capfirst(AccessLogEntry._meta.get_field(name).verbose_name) for name in self.COLUMNS
        ]
        rows = queryset.values_list(*self.COLUMNS).iterator(chunk_size=2000)
        return download_response(fmt, f"atkomstlogg-{stamp}", header, rows)
