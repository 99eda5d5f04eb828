"""Research exports: a pseudonymised dataset for an approved research project
(for example a university evaluating the model), as one .xlsx workbook.

**What is in it.** One sheet per table, and a README sheet describing every
column: people (their status, target-group codes, the first referral's
date, housing situation and support need codes, and the eligibility
criteria's answer codes), tenancies (move-in, move-out, exit reason code,
contract form, takeover), crisis placements (start, end, reason code),
support visits counted per person and month, and outcome follow-ups (date,
follow-up point and the structured answers as codes, the quality-of-life
rating as its number). Nothing else leaves: no personnummer, names,
addresses, phone numbers, no free text of any kind (notes, descriptions,
reasons typed by staff, a follow-up's "in the person's own words"), no
database ids and no staff.
Columns are chosen one by one below (never "every field"), so a field added
to a model later stays out until somebody decides it may go.

**Pseudonyms.** The unit manager enters the research project's own export
key with each export. ``derive_key`` turns it into a derived key with an
HMAC keyed on SECRET_KEY; a person's pseudonym is the HMAC-SHA256 of their
internal id under the derived key. So the same key gives the same pseudonyms
in every export (the researchers can link their exports), another key gives
unrelated ones (two projects cannot link theirs), and going back from a
pseudonym to the id needs both the key and the server's secret: the
researchers hold only the key, the database holds neither. The key is never
stored; the derived key is kept on the export's row only until the job has
written the file, and the row keeps a fingerprint (another HMAC under the
derived key) that shows which exports were made with the same key. Changing
SECRET_KEY changes every pseudonym.

**Dates.** ``shift``: each person's dates are all moved by the same secret
offset of at most ``RESEARCH_DATE_SHIFT_DAYS`` days either way (derived from
the derived key and the person), so the intervals between one person's dates
are exact, while a date cannot be matched against a register.
``month``: every date is given as its month (2026-11). Visits are counted
per month of the (shifted) date.

**Protected people** (``ParticipantQuerySet.protected()``) are left out
entirely and only their number is given (README sheet and the export's log
row): even pseudonymised, a protected person's dates of move-in and crisis
stays could help someone find them, and a researcher has no need that
outweighs that. Counting them keeps the totals honest. People whose
processing is restricted (GDPR art. 18, ``participants.restriction``) are
left out and counted the same way: their data may be stored, not processed.

**How it is made.** A unit manager orders it (``research_export_order``);
a background job (``bostadforst.jobs``, task ``reports.research_export``,
which takes the job's id only) writes the workbook through
``bostadforst.exports.write_workbook`` and logs the export; downloading it
is logged again.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bostadforst.access_log import log_access
from bostadforst.exports import DATE, NUMBER, TEXT, Sheet, write_workbook
from bostadforst.jobs import SWEEP_GRACE, TRANSIENT_ERRORS, JobQueue, Run
from bostadforst.models import AccessLogEntry
from bostadforst.scope import scoped_as
from housing.models import Tenancy
from participants.models import EligibilityAssessment, Participant, Referral
from support.models import CrisisPlacement, OutcomeFollowUp, SupportVisit

from .models import ResearchExport

EXPORT_TASK = "reports.research_export"
EXPORT_JOBS = JobQueue(ResearchExport, task=EXPORT_TASK, name="research export")
PROGRESS_INTERVAL = 1.0
# Hex digits of a pseudonym (64 bits: no collision to expect among millions).
PSEUDONYM_LENGTH = 16
FINGERPRINT_LENGTH = 16
MIN_KEY_LENGTH = 16
CHUNK = 2000

ORDER_REFUSED = {
    "date_mode": gettext_lazy("Choose how the dates are given."),
}


# --- Keys and pseudonyms -----------------------------------------------------------


def derive_key(export_key: str) -> bytes:
    """The key the pseudonyms and offsets are computed with: the export key
    under an HMAC keyed on the server's secret (the export key alone does not
    give it, nor does the database)."""
    return hmac.new(
        settings.SECRET_KEY.encode(),
        b"research-export-key:" + export_key.encode(),
        hashlib.sha256,
    ).digest()


def key_fingerprint(derived: bytes) -> str:
    """What the log keeps of the key: equal for equal keys, and nothing to
    compute pseudonyms with."""
    return hmac.new(derived, b"fingerprint", hashlib.sha256).hexdigest()[:FINGERPRINT_LENGTH]


def _mac(derived: bytes, label: str, pk: int) -> bytes:
    return hmac.new(derived, f"{label}:{pk}".encode(), hashlib.sha256).digest()


def pseudonym(derived: bytes, pk: int) -> str:
    """The person's pseudonym in every export made with this key."""
    return _mac(derived, "person", pk).hex()[:PSEUDONYM_LENGTH].upper()


def date_offset(derived: bytes, pk: int, days: int) -> int:
    """The person's secret date shift, in ``[-days, days]``."""
    if days <= 0:
        return 0
    number = int.from_bytes(_mac(derived, "date-shift", pk)[:8], "big")
    return number % (2 * days + 1) - days


class Dates:
    """How one person's dates leave: shifted by their offset, or as a month."""

    def __init__(self, mode: str, derived: bytes, days: int) -> None:
        self.mode = mode
        self.derived = derived
        self.days = days
        self._offsets: dict[int, datetime.timedelta] = {}

    def _offset(self, pk: int) -> datetime.timedelta:
        if pk not in self._offsets:
            self._offsets[pk] = datetime.timedelta(days=date_offset(self.derived, pk, self.days))
        return self._offsets[pk]

    def shown(self, pk: int, day: datetime.date | None):
        if day is None:
            return None
        if self.mode == ResearchExport.DateMode.MONTH:
            return f"{day:%Y-%m}"
        return day + self._offset(pk)

    def month(self, pk: int, day: datetime.date) -> str:
        if self.mode == ResearchExport.DateMode.MONTH:
            return f"{day:%Y-%m}"
        return f"{day + self._offset(pk):%Y-%m}"

    @property
    def kind(self) -> str:
        return TEXT if self.mode == ResearchExport.DateMode.MONTH else DATE


# --- The tables --------------------------------------------------------------------


def _people() -> tuple[list[int], int, int]:
    """The ids of the people in the export, and how many protected people
    and people under restricted processing were left out."""
    everyone = Participant._base_manager.all()
    protected = everyone.filter(pk__in=Participant.objects.protected().values("pk"))
    restricted = everyone.filter(processing_restricted_since__isnull=False).exclude(
        pk__in=protected.values("pk")
    )
    ids = list(
        everyone.exclude(pk__in=protected.values("pk"))
        .exclude(pk__in=restricted.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return ids, protected.count(), restricted.count()


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _people_rows(ids, derived, dates, counter) -> Iterator[list]:
    for chunk in _chunks(ids):
        groups: dict[int, list[str]] = defaultdict(list)
        for pk, code in Participant.target_groups.through.objects.filter(
            participant_id__in=chunk
        ).values_list("participant_id", "targetgroup__code"):
            groups[pk].append(code)
        first: dict[int, tuple] = {}
        for row in (
            Referral._base_manager.filter(participant_id__in=chunk)
            .order_by("participant_id", "referral_date", "pk")
            .values_list(
                "participant_id", "pk", "referral_date", "housing_situation", "support_need"
            )
        ):
            first.setdefault(row[0], row[1:])
        criteria: dict[int, list[str]] = defaultdict(list)
        referral_ids = {row[0]: pk for pk, row in first.items()}
        for referral_id, criterion, answer in (
            EligibilityAssessment._base_manager.filter(referral_id__in=list(referral_ids))
            .order_by("criterion")
            .values_list("referral_id", "criterion", "answer")
        ):
            criteria[referral_ids[referral_id]].append(f"{criterion}={answer}")
        for pk, status in (
            Participant._base_manager.filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "status")
        ):
            _referral_id, referred, situation, need = first.get(pk, (None, None, "", ""))
            counter["people"] += 1
            yield [
                pseudonym(derived, pk),
                status,
                ",".join(sorted(groups[pk])),
                dates.shown(pk, referred),
                situation,
                need,
                ",".join(criteria[pk]),
            ]


def _tenancy_rows(ids, derived, dates, counter) -> Iterator[list]:
    for chunk in _chunks(ids):
        for pk, move_in, move_out, reason, contract, takeover in (
            Tenancy._base_manager.filter(participant_id__in=chunk)
            .order_by("participant_id", "move_in", "pk")
            .values_list(
                "participant_id", "move_in", "move_out", "exit_reason", "contract_type", "takeover"
            )
        ):
            counter["tenancies"] += 1
            yield [
                pseudonym(derived, pk),
                dates.shown(pk, move_in),
                dates.shown(pk, move_out),
                reason,
                contract,
                dates.shown(pk, takeover),
            ]


def _placement_rows(ids, derived, dates, counter) -> Iterator[list]:
    for chunk in _chunks(ids):
        for pk, start, end, reason in (
            CrisisPlacement._base_manager.filter(participant_id__in=chunk)
            .order_by("participant_id", "start", "pk")
            .values_list("participant_id", "start", "end", "reason")
        ):
            counter["placements"] += 1
            yield [pseudonym(derived, pk), dates.shown(pk, start), dates.shown(pk, end), reason]


def _visit_rows(ids, derived, dates, counter) -> Iterator[list]:
    """Visits per person and month: the originals (a correction rewrites a
    visit, it is not another one), missed ones counted apart."""
    missed = SupportVisit.Kind.MISSED
    for chunk in _chunks(ids):
        months: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        # Grouped by day in the database (local days: TruncDate uses the
        # current time zone), then moved and grouped by month here, since the
        # shifted month depends on the person's offset.
        for pk, day, made, not_made in (
            SupportVisit._base_manager.filter(participant_id__in=chunk, corrects__isnull=True)
            .annotate(day=TruncDate("started_at"))
            .values("participant_id", "day")
            .annotate(
                made=Count("pk", filter=~Q(kind=missed)), missed=Count("pk", filter=Q(kind=missed))
            )
            .values_list("participant_id", "day", "made", "missed")
        ):
            counts = months[(pk, dates.month(pk, day))]
            counts[0] += made
            counts[1] += not_made
        for (pk, month), (made, not_made) in sorted(months.items()):
            counter["visit_months"] += 1
            yield [pseudonym(derived, pk), month, made, not_made]


def _outcome_rows(ids, derived, dates, counter) -> Iterator[list]:
    """Each follow-up with its structured answers; ``own_words`` (free text)
    is not read. A corrected follow-up leaves as it reads now."""
    for chunk in _chunks(ids):
        for pk, day, point, *answers in (
            OutcomeFollowUp._base_manager.filter(participant_id__in=chunk)
            .order_by("participant_id", "date", "pk")
            .values_list(
                "participant_id",
                "date",
                "point_months",
                "occupation",
                "income_source",
                "addiction_care",
                "psychiatric_care",
                "quality_of_life",
                "contract_form",
            )
        ):
            counter["outcome_follow_ups"] += 1
            yield [pseudonym(derived, pk), dates.shown(pk, day), point, *answers]


def _readme_rows(job: ResearchExport, counts: dict) -> list[list]:
    if job.date_mode == ResearchExport.DateMode.MONTH:
        dates = _("Every date is given as its month (YYYY-MM).")
    else:
        dates = _(
            "Every date of a person is moved by the same secret number of days, at most "
            "%(days)s days earlier or later, different for each person: the intervals between "
            "one person's dates are exact, the dates themselves are not."
        ) % {"days": job.shift_days}
    return [
        [_("Research project"), job.project],
        [_("Approving decision"), job.decision_reference],
        [_("Export key fingerprint"), job.key_fingerprint],
        [_("Dates"), dates],
        [
            _("Pseudonym"),
            _(
                "The same person has the same pseudonym in every export made with the same "
                "export key, and an unrelated one under another key."
            ),
        ],
        [
            _("Protected people"),
            _("People with protected personal data are not in the tables; %(count)s were left out.")
            % {"count": counts.get("protected_excluded", 0)},
        ],
        [
            _("Restricted processing"),
            _(
                "People whose processing is restricted (GDPR art. 18) are not in the "
                "tables; %(count)s were left out."
            )
            % {"count": counts.get("restricted_excluded", 0)},
        ],
        ["", ""],
        [_("Sheet and column"), _("Meaning")],
        *[[f"{sheet}: {column}", meaning] for sheet, column, meaning in _columns()],
    ]


def _col(heading: str):
    return pgettext_lazy("research export column", heading)


# Each table's columns: (heading, meaning for the README sheet). The headings
# are Swedish like every export's; the README gives their meaning.
COLUMNS = {
    "people": [
        (_col("Pseudonym"), gettext_lazy("The person's pseudonym")),
        (
            _col("Status"),
            gettext_lazy("Status code: referred, assessing, approved, housed, exited"),
        ),
        (_col("Target groups"), gettext_lazy("Target-group codes, comma-separated")),
        (_col("Referral date"), gettext_lazy("Date of the first referral")),
        (
            _col("Housing situation"),
            gettext_lazy("Housing situation code at the first referral"),
        ),
        (_col("Support need"), gettext_lazy("Support need code at the first referral")),
        (
            _col("Eligibility"),
            gettext_lazy("Eligibility criteria and answer codes (criterion=answer)"),
        ),
    ],
    "tenancies": [
        (_col("Pseudonym"), gettext_lazy("The person's pseudonym")),
        (_col("Move-in"), gettext_lazy("Move-in date")),
        (_col("Move-out"), gettext_lazy("Move-out date (empty: still living there)")),
        (_col("Exit reason"), gettext_lazy("Exit reason code")),
        (_col("Contract form"), gettext_lazy("Contract form code (first_hand, social)")),
        (_col("Takeover"), gettext_lazy("Date the tenant took over the contract")),
    ],
    "placements": [
        (_col("Pseudonym"), gettext_lazy("The person's pseudonym")),
        (_col("Start"), gettext_lazy("First day of the crisis placement")),
        (_col("End"), gettext_lazy("Day the person left (empty: still there)")),
        (_col("Reason"), gettext_lazy("Reason code")),
    ],
    "visits": [
        (_col("Pseudonym"), gettext_lazy("The person's pseudonym")),
        (_col("Month"), gettext_lazy("Month (YYYY-MM)")),
        (_col("Visits"), gettext_lazy("Support contacts that took place")),
        (_col("Missed"), gettext_lazy("Support contacts missed or cancelled")),
    ],
    "outcomes": [
        (_col("Pseudonym"), gettext_lazy("The person's pseudonym")),
        (_col("Follow-up date"), gettext_lazy("Date of the outcome follow-up")),
        (
            _col("Follow-up point"),
            gettext_lazy("Months after the first move-in the follow-up belongs to (0, 6, 12 …)"),
        ),
        (
            _col("Occupation"),
            gettext_lazy("Occupation code: none, day_activity, studies, work_training, employment"),
        ),
        (
            _col("Income source"),
            gettext_lazy(
                "Main income source code: salary, activity_or_sickness, financial_assistance, "
                "pension, student_aid, other, unknown"
            ),
        ),
        (
            _col("Addiction care"),
            gettext_lazy("Contact with addiction care: yes, no, unknown"),
        ),
        (
            _col("Psychiatric care"),
            gettext_lazy("Contact with psychiatric care: yes, no, unknown"),
        ),
        (
            _col("Quality of life"),
            gettext_lazy("Self-rated quality of life, 1–10 (empty: not answered)"),
        ),
        (
            _col("Contract form"),
            gettext_lazy("Contract form code (first_hand, social; empty: not recorded)"),
        ),
    ],
}
TITLES = {
    "people": gettext_lazy("People"),
    "tenancies": gettext_lazy("Tenancies"),
    "placements": gettext_lazy("Crisis placements"),
    "visits": gettext_lazy("Visits per month"),
    "outcomes": gettext_lazy("Outcome follow-ups"),
}


def _columns() -> list[tuple[str, str, str]]:
    return [
        (str(TITLES[table]), str(heading), str(meaning))
        for table, columns in COLUMNS.items()
        for heading, meaning in columns
    ]


def _headings(table: str) -> list[str]:
    return [str(heading) for heading, _meaning in COLUMNS[table]]


def research_export_write(job: ResearchExport, file, *, derived: bytes) -> dict:
    """Write the workbook of ``job`` to the binary ``file``; the row counts."""
    ids, protected, restricted = _people()
    dates = Dates(job.date_mode, derived, job.shift_days)
    counter: Counter = Counter()
    d = dates.kind
    sheets = [
        Sheet(
            str(TITLES["people"]),
            _headings("people"),
            _people_rows(ids, derived, dates, counter),
            [TEXT, TEXT, TEXT, d, TEXT, TEXT, TEXT],
        ),
        Sheet(
            str(TITLES["tenancies"]),
            _headings("tenancies"),
            _tenancy_rows(ids, derived, dates, counter),
            [TEXT, d, d, TEXT, TEXT, d],
        ),
        Sheet(
            str(TITLES["placements"]),
            _headings("placements"),
            _placement_rows(ids, derived, dates, counter),
            [TEXT, d, d, TEXT],
        ),
        Sheet(
            str(TITLES["visits"]),
            _headings("visits"),
            _visit_rows(ids, derived, dates, counter),
            [TEXT, TEXT, NUMBER, NUMBER],
        ),
        Sheet(
            str(TITLES["outcomes"]),
            _headings("outcomes"),
            _outcome_rows(ids, derived, dates, counter),
            [TEXT, d, NUMBER, TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT],
        ),
    ]
    # The README goes first; of the counts it needs only the protected people,
    # known before any row is written. The tables' counts go to the log row.
    readme = Sheet(
        "README",  # the name researchers look for, in any language
        [_("Item"), _("Description")],
        _readme_rows(job, {"protected_excluded": protected, "restricted_excluded": restricted}),
        [TEXT, TEXT],
    )
    write_workbook(file, [readme, *sheets])
    return {
        "people": counter["people"],
        "tenancies": counter["tenancies"],
        "placements": counter["placements"],
        "visit_months": counter["visit_months"],
        "outcome_follow_ups": counter["outcome_follow_ups"],
        "protected_excluded": protected,
        "restricted_excluded": restricted,
    }


# --- The job -----------------------------------------------------------------------


@transaction.atomic
def research_export_order(
    *,
    project: str,
    purpose: str,
    decision_reference: str,
    export_key: str,
    date_mode: str,
    acting_user,
) -> ResearchExport:
    """Store the order of a research export and queue its job once committed."""
    if date_mode not in ResearchExport.DateMode.values:
        raise ValidationError(ORDER_REFUSED["date_mode"], code="date_mode")
    derived = derive_key(export_key)
    job = ResearchExport(
        project=project,
        purpose=purpose,
        decision_reference=decision_reference,
        key_fingerprint=key_fingerprint(derived),
        derived_key=derived.hex(),
        date_mode=date_mode,
        shift_days=(
            settings.RESEARCH_DATE_SHIFT_DAYS if date_mode == ResearchExport.DateMode.SHIFT else 0
        ),
        ordered_by=acting_user,
    )
    job.full_clean()
    job.save()
    job_id = job.pk
    transaction.on_commit(lambda: EXPORT_JOBS.send(job_id))
    return job


def research_export_sweep_unsent(*, grace: datetime.timedelta = SWEEP_GRACE) -> int:
    """Send the export jobs the broker never received, or whose worker died."""
    return EXPORT_JOBS.sweep(grace=grace)


def research_export_run(*, export_id: int) -> str:
    """Write research export ``export_id`` once; the state it ends in."""
    return EXPORT_JOBS.run(export_id, _make, interval=PROGRESS_INTERVAL)


def _make(run: Run) -> str:
    try:
        return _write(run)
    except TRANSIENT_ERRORS:
        raise  # the retry needs the derived key
    except Exception:
        # A failed export is not retried: its derived key is dropped with it.
        run.rows().update(derived_key="")
        raise


def _write(run: Run) -> str:
    job: ResearchExport = run.job
    derived = bytes.fromhex(job.derived_key)
    # Only the people the orderer may see (their row scope, bostadforst.scope).
    with (
        tempfile.TemporaryFile() as file,
        translation.override("sv"),
        scoped_as(job.ordered_by),
    ):
        counts = research_export_write(job, file, derived=derived)
        if run.lost:
            return run.taken_over()
        file.seek(0)
        job.file.save(f"forskningsuttag-{job.pk}.xlsx", File(file), save=False)
    try:
        with transaction.atomic():
            # The derived key goes with the run that used it: from here on
            # nobody can compute these pseudonyms without the project's key.
            stored = run.finish(file=job.file.name, counts=counts, derived_key="")
            if stored:
                log_access(action=AccessLogEntry.Action.EXPORT, user=job.ordered_by, obj=job)
    except BaseException:
        job.file.delete(save=False)
        raise
    if not stored:
        job.file.delete(save=False)
        return run.taken_over()
    return ResearchExport.State.DONE
