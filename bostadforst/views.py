from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .roles import role_of


def home(request):
    """The start page: what the user's role finds in the system."""
    role = role_of(request.user)
    return render(request, "bostadforst/home.html", {"role": role})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness for the load balancer: answers 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_POST
def session_ping(request):
    """Keep the session alive (the idle-timeout warning's "continue" button)."""
    return JsonResponse({"idle_timeout": settings.SESSION_IDLE_TIMEOUT})
