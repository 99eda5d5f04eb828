"""A URLconf with an admin site where a case model uses ``CaseModelAdmin``
(the project's own admin registrations belong to the apps)."""

from django.contrib import admin
from django.urls import path

from bostadforst.admin_base import CaseModelAdmin
from bostadforst.urls import urlpatterns as project_patterns
from participants.models import Participant

site = admin.AdminSite(name="admin")


class ParticipantAdmin(CaseModelAdmin):
    fields = ("first_name", "last_name", "phone", "status")


site.register(Participant, ParticipantAdmin)

urlpatterns = [
    path("admin/", site.urls),
    *[p for p in project_patterns if str(p.pattern) != "admin/"],
]
