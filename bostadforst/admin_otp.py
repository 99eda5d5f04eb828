"""The two-factor devices in the admin, in the admin's language.

django-otp's admin pages name their columns, fields, field groups, filters and
search help in English whatever the language (its models' texts are not marked
for translation and it ships no Swedish). These subclasses show the same pages
in the project's words and replace django-otp's registrations:
``bostadforst/admin.py`` imports this module, and autodiscovery has imported
django-otp's admin modules before it (their apps come first in
``INSTALLED_APPS``). Field labels are set on the forms, never on django-otp's
model fields, which its migrations describe.
"""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin, StaticTokenInline
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

# Form field -> (label, help text).
FIELD_TEXTS = {
    "user": (_("User"), _("The user this device belongs to.")),
    "name": (_("Name"), _("A name the user recognises the device by.")),
    "confirmed": (_("Confirmed"), _("Whether the device is ready for use.")),
    "key": (_("Key"), _("A hex-encoded secret key of up to 40 bytes.")),
    "step": (_("Time step"), _("The time step in seconds.")),
    "t0": (_("Start time"), _("The Unix time at which to begin counting steps.")),
    "digits": (_("Digits"), _("The number of digits of a code.")),
    "tolerance": (
        _("Tolerance"),
        _("The number of time steps in the past or future to allow."),
    ),
    "drift": (
        _("Drift"),
        _("The number of time steps the device is known to be off the server's clock."),
    ),
    "throttling_failure_timestamp": (
        _("Last failed attempt"),
        _("When the last attempt failed; empty if it succeeded."),
    ),
    "throttling_failure_count": (
        _("Failed attempts in a row"),
        _("The number of failed attempts since the last one that succeeded."),
    ),
    "token": (_("Code"), ""),
}
# django-otp's field groups, by their (English) names.
FIELDSET_NAMES = {
    "Identity": _("Identity"),
    "Timestamps": _("Times"),
    "Configuration": _("Settings"),
    "State": _("State"),
    "Throttling": _("Throttling after failed attempts"),
}
# Its read-only timestamps, shown by the methods below (their labels come from
# the model fields otherwise).
READ_ONLY = {"created_at": "created", "last_used_at": "last_used"}


def titled(filter_class, title):
    """``filter_class`` with ``title`` instead of the model field's name."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class SwedishDeviceAdminMixin:
    """Columns, fields, groups, filters and search help in the admin's language."""

    list_display = ["device_user", "device_name", "created", "last_used", "is_confirmed"]
    list_filter = [
        ("created_at", titled(admin.DateFieldListFilter, _("Created"))),
        ("last_used_at", titled(admin.DateFieldListFilter, _("Last used"))),
        ("confirmed", titled(admin.BooleanFieldListFilter, _("Confirmed"))),
    ]
    readonly_fields = ["created", "last_used"]
    search_help_text = _("Search by the user's username or e-mail address.")

    def get_fieldsets(self, request, obj=None):
        return [
            (
                FIELDSET_NAMES.get(name, name),
                {**options, "fields": [READ_ONLY.get(f, f) for f in options["fields"]]},
            )
            for name, options in super().get_fieldsets(request, obj)
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in FIELD_TEXTS:
            kwargs["label"], kwargs["help_text"] = FIELD_TEXTS[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("User"), ordering="user")
    def device_user(self, device):
        return device.user

    @admin.display(description=_("Name"), ordering="name")
    def device_name(self, device):
        return device.name

    # Formatted here: a read-only method's value is shown as str() on the change page.
    @admin.display(description=_("Created"), ordering="created_at")
    def created(self, device):
        return display_for_value(device.created_at, self.get_empty_value_display())

    @admin.display(description=_("Last used"), ordering="last_used_at")
    def last_used(self, device):
        return display_for_value(device.last_used_at, self.get_empty_value_display())

    @admin.display(description=_("Confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed


class SwedishTOTPDeviceAdmin(SwedishDeviceAdminMixin, TOTPDeviceAdmin):
    readonly_fields = ["created", "last_used", "qrcode_link"]

    @admin.display(description=_("QR code"))
    def qrcode_link(self, device):
        return super().qrcode_link(device)


class SwedishStaticTokenInline(StaticTokenInline):
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in FIELD_TEXTS:
            kwargs["label"], kwargs["help_text"] = FIELD_TEXTS[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class SwedishStaticDeviceAdmin(SwedishDeviceAdminMixin, StaticDeviceAdmin):
    inlines = [SwedishStaticTokenInline]


for model, model_admin in (
    (TOTPDevice, SwedishTOTPDeviceAdmin),
    (StaticDevice, SwedishStaticDeviceAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
