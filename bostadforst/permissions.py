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
from .scope import user_limits

SOCIAL_WORKER = frozenset({Role.SOCIAL_WORKER})
SUPPORT_STAFF = frozenset({Role.SUPPORT_STAFF})
ADMINISTRATOR = frozenset({Role.ADMINISTRATOR})
CASE_READERS = TEAM | SOCIAL_WORKER

# URL names that need no login at all.
PUBLIC: frozenset[str] = frozenset(
    {
        "login",
        "healthz",
        "set_language",
        # The password reset by e-mail (404 unless enabled).
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        # OpenID Connect login (404 unless enabled; the answer is verified).
        "oidc_authentication_init",
        "oidc_authentication_callback",
        # SAML 2.0 login (404 unless enabled; the IdP's answer is signed).
        "saml2-login",
        "saml2-acs",
        "saml2-metadata",
        # A worker's calendar feed of planned visits: a calendar app fetches it
        # with the secret token alone (404 for any other; support.planning_views).
        "support:calendar-feed",
    }
)

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
    "otp-verify": ALL_ROLES,
    "otp-enrol": ALL_ROLES,
    # Each user's own choice of reminders by e-mail; the roles that get any.
    "reminder-preferences": CASE_READERS,
    # --- participants ------------------------------------------------------
    "participants:my-referrals": SOCIAL_WORKER,
    "participants:referral-create": SOCIAL_WORKER,
    "participants:referral-queue": TEAM,
    "participants:referral-detail": CASE_READERS,
    "participants:referral-add-information": CASE_READERS,
    "participants:referral-withdraw": CASE_READERS,
    "participants:referral-start-assessment": TEAM,
    "participants:referral-log-entry": TEAM,
    "participants:referral-assess": TEAM,
    "participants:referral-match-confirm": TEAM,
    "participants:referral-match-reject": TEAM,
    "participants:referral-decide": MANAGERS,
    "participants:participant-list": TEAM,
    "participants:participant-list-csv": TEAM,
    "participants:participant-list-xlsx": TEAM,
    "participants:participant-detail": TEAM,
    "participants:participant-update": TEAM,
    # Restricted processing (GDPR art. 18) is set and lifted by the unit manager.
    "participants:participant-restrict": frozenset({Role.UNIT_MANAGER}),
    "participants:participant-restriction-lift": frozenset({Role.UNIT_MANAGER}),
    # Protected identity is decided by the unit manager alone (issue 15).
    "participants:participant-protection": frozenset({Role.UNIT_MANAGER}),
    "participants:network-contact-create": TEAM,
    "participants:network-contact-update": TEAM,
    # Consent is recorded and withdrawn by the team (issue 15).
    "participants:consent-create": TEAM,
    "participants:consent-withdraw": TEAM,
    # --- housing -----------------------------------------------------------
    "housing:apartment-list": TEAM,
    "housing:apartment-create": TEAM,
    "housing:apartment-detail": TEAM,
    "housing:apartment-update": TEAM,
    "housing:tenancy-assign": TEAM,
    "housing:tenancy-detail": TEAM,
    "housing:tenancy-takeover": TEAM,
    "housing:tenancy-provider": TEAM,
    "housing:tenancy-end": TEAM,
    "housing:incident-create": TEAM,
    "housing:incident-update": TEAM,
    "housing:eviction-risk-list": TEAM,
    # --- support -----------------------------------------------------------
    # The team reads and writes support records; social workers see only the
    # summary on the participant page (support.participant_page), never these.
    "support:my-participants": TEAM,
    "support:my-participants-csv": TEAM,
    "support:my-participants-xlsx": TEAM,
    "support:visit-quick-log": TEAM,
    "support:visit-goal-choices": TEAM,
    "support:visit-detail": TEAM,
    "support:visit-edit": TEAM,
    "support:visit-sign": TEAM,
    "support:visit-correct": TEAM,
    "support:visit-undo": TEAM,
    # Planned visits (issue 17): each worker's own; the feed's settings page.
    "support:planned-visit-list": TEAM,
    "support:planned-visit-create": TEAM,
    "support:planned-visit-detail": TEAM,
    "support:planned-visit-log": TEAM,
    "support:planned-visit-cancel": TEAM,
    "support:calendar": TEAM,
    "support:visit-list": TEAM,
    "support:plan-list": TEAM,
    "support:plan-create": TEAM,
    "support:plan-review-list": TEAM,
    "support:plan-detail": TEAM,
    "support:plan-print": TEAM,
    "support:plan-pdf": TEAM,
    "support:crisis-place-list": TEAM,
    "support:placement-create": TEAM,
    "support:placement-detail": TEAM,
    "support:placement-end": TEAM,
    # Outcome follow-ups (issue 18 item 2): the person's team.
    "support:outcome-follow-up-create": TEAM,
    "support:activity-list": TEAM,
    "support:activity-create": TEAM,
    "support:activity-detail": TEAM,
    "support:activity-attendance": TEAM,
    # --- reports -----------------------------------------------------------
    "reports:dashboard": MANAGERS,
    "reports:dashboard-csv": MANAGERS,
    "reports:dashboard-xlsx": MANAGERS,
    # The data-quality report (reports.data_quality): the unit manager's.
    "reports:data-quality": MANAGERS,
    "reports:data-quality-rule": MANAGERS,
    "reports:report-list": MANAGERS,
    "reports:report-detail": MANAGERS,
    "reports:report-status": MANAGERS,
    "reports:report-pdf": MANAGERS,
    "reports:report-csv": MANAGERS,
    "reports:report-xlsx": MANAGERS,
    "reports:cohort-import": MANAGERS,
    "reports:cohort-import-template-xlsx": MANAGERS,
    "reports:cohort-import-template-csv": MANAGERS,
    "reports:cohort-import-detail": MANAGERS,
    "reports:cohort-import-status": MANAGERS,
    "reports:cohort-import-errors-csv": MANAGERS,
    "reports:cohort-import-errors-xlsx": MANAGERS,
    # Socialstyrelsen's homelessness count: anonymous rows, yet of everyone.
    "reports:homelessness-count": MANAGERS,
    "reports:homelessness-count-xlsx": MANAGERS,
    "reports:homelessness-count-csv": MANAGERS,
    # Register extracts (GDPR art. 15): everything about one person.
    "reports:register-extract-start": MANAGERS,
    "reports:register-extract-detail": MANAGERS,
    "reports:register-extract-status": MANAGERS,
    "reports:register-extract-pdf": MANAGERS,
    # Research exports: a pseudonymised dataset of everyone, for a project
    # with an approving decision; the unit manager answers for it.
    "reports:research-export": MANAGERS,
    "reports:research-export-xlsx": MANAGERS,
    # --- fidelity ----------------------------------------------------------
    # The team's self-assessment: the team records; the selector shows a
    # support worker the assessments they took part in, a manager all.
    "fidelity:assessment-list": TEAM,
    "fidelity:assessment-create": TEAM,
    "fidelity:assessment-detail": TEAM,
    "fidelity:assessment-pdf": TEAM,
    # --- audit and security -----------------------------------------------
    "bostadforst:access-log": MANAGERS,
    "bostadforst:access-log-export": MANAGERS,
    "bostadforst:access-log-export-xlsx": MANAGERS,
}


# Pages a user limited to one unit's or provider's people (``bostadforst.scope``)
# may not use although their role may: the cohort import writes and matches
# records of anyone in the file, and decides what is new by every tenancy
# held, which a scope would hide (it would duplicate people outside it).
UNSCOPED_ONLY: frozenset[str] = frozenset(
    name for name in ACCESS_TABLE if name.startswith("reports:cohort-import")
)


def scope_refuses(user, view_name: str) -> bool:
    """Whether ``user``'s row scope closes ``view_name`` (``UNSCOPED_ONLY``):
    the middleware refuses it and the navigation leaves it out."""
    return view_name in UNSCOPED_ONLY and bool(user_limits(user))


def allowed_roles(view_name: str) -> frozenset | None:
    """The roles that may use ``view_name``; None when it is not in the table."""
    return ACCESS_TABLE.get(view_name)
