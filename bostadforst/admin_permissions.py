"""Permission names on the admin's group page, in the admin's language.

Django stores a permission's name in English when it creates it ("Can add
tenancy") and the group page lists it as stored; django-simple-history names
its history models "historical …" in English as well. The group page here
names each permission from the model's verbose names, which are translated:
"Boende | boende | Kan lägga till boende". ``bostadforst/admin.py`` imports
this module after ``django.contrib.auth`` has registered the group admin.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Django's four default permissions, by the codename's first word.
ACTIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}


def permission_label(permission: Permission) -> str:
    """ "app | model | permission" as Django shows a permission, from the
    translated verbose names; a permission of a model Django no longer knows
    keeps its stored text."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    opts = model._meta
    # A history model of django-simple-history points at its model.
    subject = getattr(model, "instance_type", None)
    if subject is not None:
        name = gettext("history of %(name)s") % {"name": subject._meta.verbose_name}
    else:
        name = opts.verbose_name
    action, _sep, model_name = permission.codename.partition("_")
    if action in ACTIONS and model_name == opts.model_name:
        what = ACTIONS[action] % {"name": name}
    else:
        what = permission.name
    return f"{apps.get_app_config(opts.app_label).verbose_name} | {name} | {what}"


class TranslatedPermissionsGroupAdmin(GroupAdmin):
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name == "permissions":
            field.label_from_instance = permission_label
        return field


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, TranslatedPermissionsGroupAdmin)
