from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .permissions import scope_refuses
from .roles import NAV_GROUPS, NAV_MORE_LABEL, NAV_MORE_ROLES, NAVIGATION, role_of
from .security import otp_required


def second_factor_pending(user) -> bool:
    """Logged in with the password, but the TOTP step is still to come."""
    if not getattr(user, "is_authenticated", False) or not otp_required(user):
        return False
    return not getattr(user, "is_verified", lambda: True)()


def navigation(request) -> dict:
    """The main navigation for the user's role (only URLs that exist).

    ``nav_items`` is flat (every link, for the start page); ``nav_menu`` is the
    same links with grouped entries collected under their group's menu (for
    ``NAV_MORE_ROLES``, every group under one "More" menu, each group's name a
    heading: ``{"heading": label}`` among the children). Until
    the second factor is entered there is no menu: every link would only lead
    back to the code step.
    """
    user = getattr(request, "user", None)
    role = role_of(user)
    pending = second_factor_pending(user)
    items, menu, groups = [], [], {}
    if role is not None and not pending:
        current = getattr(getattr(request, "resolver_match", None), "view_name", "")
        for entry in NAVIGATION:
            if role not in entry.roles or scope_refuses(user, entry.url_name):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            item = {"url": url, "label": entry.label, "active": entry.url_name == current}
            items.append(item)
            if not entry.group:
                menu.append(item)
                continue
            if entry.group not in groups:
                groups[entry.group] = {
                    "key": entry.group,
                    "label": NAV_GROUPS[entry.group],
                    "children": [],
                    "active": False,
                }
                menu.append(groups[entry.group])
            groups[entry.group]["children"].append(item)
            groups[entry.group]["active"] |= item["active"]
        if role in NAV_MORE_ROLES and len(groups) > 1:
            more = {"key": "more", "label": NAV_MORE_LABEL, "children": [], "active": False}
            for group in groups.values():
                more["children"] += [{"heading": group["label"]}, *group["children"]]
                more["active"] |= group["active"]
            menu = [item for item in menu if "children" not in item] + [more]
    return {
        "nav_items": items,
        "nav_menu": menu,
        "user_role": role,
        "second_factor_pending": pending,
        "municipality_name": settings.MUNICIPALITY_NAME,
        "demo_mode": settings.DEMO_MODE,
        "session_idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        "session_warning_before": settings.SESSION_WARNING_BEFORE,
        "session_warning_minutes": settings.SESSION_WARNING_BEFORE // 60,
    }
