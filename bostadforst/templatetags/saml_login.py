"""``{% saml_login_enabled as x %}``: whether the login page offers SAML."""

from django import template

from ..saml import saml_enabled

register = template.Library()


@register.simple_tag
def saml_login_enabled() -> bool:
    return saml_enabled()
