"""The login page's OpenID Connect button and the local-login note."""

from django import template
from django.conf import settings

from bostadforst.oidc import oidc_enabled

register = template.Library()


@register.simple_tag
def oidc_login_enabled() -> bool:
    return oidc_enabled()


@register.simple_tag
def local_login_restricted() -> bool:
    """Password login is only for the fallback administrators."""
    return getattr(settings, "LOCAL_LOGIN_FOR", "all") == "superusers"
