"""Visits stored before 0006 with a note of only blanks get an empty note.

Since 0006, ``SupportVisit.clean`` stores a blank note empty, and the
data-quality rule "visit without a note" (``reports.data_quality``) looks
for ``note = ''`` through the partial index ``visit_without_note``. A visit
saved earlier with a note of only spaces or line breaks would otherwise drop
out of that rule. Nothing is lost: the note held no text.
"""

from django.db import migrations


def blank_notes_emptied(apps, schema_editor):
    SupportVisit = apps.get_model("support", "SupportVisit")
    SupportVisit.objects.filter(note__regex=r"^\s+$").update(note="")


class Migration(migrations.Migration):
    dependencies = [("support", "0006_visit_without_note_index")]

    operations = [migrations.RunPython(blank_notes_emptied, migrations.RunPython.noop)]
