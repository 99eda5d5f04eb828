"""Least privilege as data: which role may open which page.

Every URL name of the project must appear in ``ACCESS_TABLE``;
``PermissionTableMiddleware`` consults it before any view runs and answers 403
for a role not listed. A URL missing from the table is refused for everyone
(and fails ``tests/bostadforst/test_url_matrix.py``), so a new page is closed
until someone decides who may use it.

Row-level rules (a social worker reaches only the people they referred) live in
each app's selectors, which answer 404 for both "missing" and "not yours".
"""

from .roles import ALL_ROLES, MANAGERS, TEAM, Role  # noqa: F401  (MANAGERS: for the table)

SOCIAL_WORKER = frozenset({Role.SOCIAL_WORKER})
SUPPORT_STAFF = frozenset({Role.SUPPORT_STAFF})
ADMINISTRATOR = frozenset({Role.ADMINISTRATOR})
CASE_READERS = TEAM | SOCIAL_WORKER

# URL names that need no login at all.
PUBLIC: frozenset[str] = frozenset({"login", "healthz", "set_language"})

# URL namespaces that guard themselves (the admin site checks is_staff and
# model permissions on every view).
SELF_GUARDED_NAMESPACES: frozenset[str] = frozenset({"admin"})

ACCESS_TABLE: dict[str, frozenset] = {
    # --- bostadforst -------------------------------------------------------
    "home": ALL_ROLES,
    "logout": ALL_ROLES,
    "password_change": ALL_ROLES,
    "password_change_done": ALL_ROLES,
    "session-ping": ALL_ROLES,
    # --- participants ------------------------------------------------------
    # --- housing -----------------------------------------------------------
    # --- support -----------------------------------------------------------
    # --- reports -----------------------------------------------------------
    # --- audit and security -----------------------------------------------
}


def allowed_roles(view_name: str) -> frozenset | None:
    """The roles that may use ``view_name``; None when it is not in the table."""
    return ACCESS_TABLE.get(view_name)
