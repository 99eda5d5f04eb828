"""View mixins every app uses: audited reads and service-backed forms."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from .access_log import log_denied, log_read
from .models import StaleObjectError


class AuditedObjectMixin:
    """For views that show one record of a person: every read is logged.

    Subclasses set ``get_queryset()`` to the user's scoped queryset (a selector
    that answers only what the user may see), so a record outside it is a 404,
    the same answer as a missing one.
    """

    def get_object(self, queryset=None):
        try:
            obj = super().get_object(queryset)
        except Http404:
            self._log_if_hidden()
            raise
        log_read(self.request, obj)
        return obj

    def _log_if_hidden(self) -> None:
        """A record that exists but is outside the user's scope: log the denial."""
        pk = self.kwargs.get(getattr(self, "pk_url_kwarg", "pk"))
        model = getattr(self, "model", None) or getattr(
            getattr(self, "queryset", None), "model", None
        )
        if model is None:
            try:
                model = self.get_queryset().model
            except Exception:  # the 404 stands; logging must not turn it into a 500
                return
        if pk is None:
            return
        try:
            hidden = model._base_manager.filter(pk=pk).first()
        except (ValueError, TypeError):
            return
        if hidden is not None:
            person_id = hidden.participant_pk() if hasattr(hidden, "participant_pk") else None
            log_denied(self.request, model=hidden._meta.label, person_id=person_id)


class ServiceFormMixin:
    """A form view whose ``form_valid`` hands the cleaned data to one service.

    Subclasses implement ``perform(form)`` (call the service, return the saved
    object or None) and ``get_success_url()``, and optionally
    ``success_message``. Invalid input answers 400 with the form re-rendered. Rule violations raised
    by the service as ValidationError, stale saves and database constraint
    errors become form errors: a clear message and a 4xx-free re-render,
    never a 500, and nothing half-saved (the service is atomic).
    """

    success_message = ""
    integrity_error_message = _(
        "The change conflicts with other data (for example an overlapping period). "
        "Nothing was saved."
    )

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
            return self.form_invalid(form)
        except StaleObjectError:
            form.add_stale_error()
            return self.form_invalid(form)
        except IntegrityError:
            form.add_error(None, self.integrity_error_message)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        """Bad input answers 400 with the form and its messages."""
        response = super().form_invalid(form)
        response.status_code = 400
        return response
