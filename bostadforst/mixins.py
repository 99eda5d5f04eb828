"""The form views of every app: one service per submit, once per submit."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import StaleObjectError, SubmitToken
from .versioning import stale_error

TOKEN_FIELD = "submit_token"


def with_submit_token(form: forms.BaseForm) -> forms.BaseForm:
    """Give ``form`` its one-time submit token (a hidden field, fresh per page).

    Pages are not cached (``NoStoreMiddleware``), so Back fetches the form
    page again with a fresh token; ``static/js/app.js`` then puts back the
    token the form was submitted with, so that submitting again is a replay.

    For forms shown on another page than the one they post to (the referral
    page's log form); ``ServiceFormMixin`` adds it to its own form.
    """
    form.fields[TOKEN_FIELD] = forms.UUIDField(
        required=False, widget=forms.HiddenInput, initial=uuid.uuid4
    )
    return form


class _Replay(Exception):
    def __init__(self, claim: SubmitToken) -> None:
        self.claim = claim


class ServiceFormMixin:
    """A form view whose ``form_valid`` hands the cleaned data to one service.

    Subclasses implement ``perform(form)`` (call the service, return the saved
    object or None) and ``get_success_url()``, and optionally
    ``success_message``.

    * Invalid input answers 400 with the form and its messages.
    * Rule violations raised by the service (ValidationError), stale saves and
      database constraint errors become form errors: never a 500, and nothing
      half-saved (the service and the token claim share one transaction).
    * The form's one-time submit token is claimed in that transaction; a
      replay of it creates nothing and shows what the first submit saved.
    """

    success_message = ""
    integrity_error_message = _(
        "The change conflicts with other data (for example an overlapping period). "
        "Nothing was saved."
    )
    replay_message = _(
        "This form had already been sent. Nothing new was saved; this is what the first "
        "submit saved."
    )

    def perform(self, form):
        raise NotImplementedError

    def get_form(self, form_class=None):
        return with_submit_token(super().get_form(form_class))

    def post(self, request, *args, **kwargs):
        # A replay is answered before the form is read: the first submit may
        # have changed what the form would now accept (a recorded takeover
        # turns the takeover form into a correction).
        try:
            token = uuid.UUID(request.POST.get(TOKEN_FIELD, ""))
        except ValueError:
            token = None
        claim = SubmitToken.objects.filter(token=token).first() if token else None
        if claim is not None:
            return self._replay(claim)
        return super().post(request, *args, **kwargs)

    def _replay(self, claim: SubmitToken):
        if claim.user_id != self.request.user.pk:
            return HttpResponseBadRequest(gettext("The form is not valid. Reload the page."))
        messages.info(self.request, self.replay_message)
        return HttpResponseRedirect(claim.result_url or self.request.path)

    def form_valid(self, form):
        token = form.cleaned_data.pop(TOKEN_FIELD, None)
        try:
            with transaction.atomic():
                if token is not None:
                    self._claim(token)
                self.object = self.perform(form)
                url = self.get_success_url()
                if token is not None:
                    SubmitToken.objects.filter(token=token).update(result_url=url)
        except _Replay as replay:  # sent twice at the same moment
            return self._replay(replay.claim)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
            return self.form_invalid(form)
        except StaleObjectError as exc:
            form.add_error(None, stale_error(exc.instance, exc.read_version))
            if hasattr(form, "take_current_version"):
                form.take_current_version()
            return self.form_invalid(form)
        except IntegrityError:
            form.add_error(None, self.integrity_error_message)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(url)

    def _claim(self, token) -> None:
        """Claim ``token`` or raise ``_Replay`` with the earlier claim.

        One statement: ``INSERT … ON CONFLICT (token) DO NOTHING``, which
        inserts nothing when the token is claimed (``post`` looked for that
        claim just before; this finds one made since). Two submits of one
        token at the same moment: the second insert waits on the unique index
        until the first commits, then inserts nothing, and reads that claim.
        """
        using = router.db_for_write(SubmitToken)
        connection = connections[using]
        meta = SubmitToken._meta
        values = {
            "token": token,
            "user": self.request.user.pk,
            "created_at": timezone.now(),
            "result_url": "",
        }
        fields = [meta.get_field(name) for name in values]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                f"VALUES ({', '.join(['%s'] * len(fields))}) "
                f"ON CONFLICT ({quote(meta.get_field('token').column)}) DO NOTHING",
                [f.get_db_prep_save(values[f.name], connection) for f in fields],
            )
            if cursor.rowcount == 1:
                return
        raise _Replay(SubmitToken.objects.using(using).get(token=token))

    def form_invalid(self, form):
        """Bad input answers 400 with the form and its messages."""
        response = super().form_invalid(form)
        response.status_code = 400
        return response
