from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .roles import NAVIGATION, role_of


def navigation(request) -> dict:
    """The navigation entries of the user's role (only URLs that exist)."""
    role = role_of(getattr(request, "user", None))
    items = []
    if role is not None:
        current = getattr(getattr(request, "resolver_match", None), "view_name", "")
        for name, label, roles in NAVIGATION:
            if role not in roles:
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            items.append({"url": url, "label": label, "active": name == current})
    return {
        "nav_items": items,
        "user_role": role,
        "municipality_name": settings.MUNICIPALITY_NAME,
        "demo_mode": settings.DEMO_MODE,
        "session_idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        "session_warning_before": settings.SESSION_WARNING_BEFORE,
        "session_warning_minutes": settings.SESSION_WARNING_BEFORE // 60,
    }
