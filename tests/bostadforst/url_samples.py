"""Arguments for the bostadforst URLs, for the project-wide walking tests
(``world`` is built by tests/world.py on the demo data)."""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def _reset_link(user) -> dict:
    """A valid password-reset link for ``user``, as the mail would carry."""
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


SAMPLES = {
    "password_reset_confirm": lambda world: _reset_link(world.social_worker),
}

# Valid POST data for the form pages (tests/bostadforst/test_submit_walks.py).
FORM_SAMPLES = {
    # Every box cleared: the first submit saves the choices, so the walk sees a change.
    "reminder-preferences": lambda world: {"language": "sv"},
}
