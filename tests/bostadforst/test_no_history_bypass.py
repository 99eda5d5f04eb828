"""PITFALLS 4: django-simple-history (and so the access log) never sees
``queryset.update()``, ``bulk_create()`` or ``bulk_update()``. Case models are
changed only through services that save rows; this walk reads the source of
every local app and fails on a bulk write whose target is a case model (by
class name or by a reverse accessor such as ``participant.tenancies``).

New apps, models and accessors are covered without touching this file.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

from bostadforst.models import CaseModel

BULK_WRITES = {"update", "bulk_create", "bulk_update", "update_or_create_bulk"}
ROOT = Path(settings.BASE_DIR)


def case_model_names() -> set[str]:
    names = set()
    for model in apps.get_models():
        if issubclass(model, CaseModel):
            names.add(model.__name__)
    return names


def case_accessor_names() -> set[str]:
    """Reverse accessors that lead to case rows (``participant.tenancies``)."""
    names = set()
    for model in apps.get_models():
        for rel in model._meta.related_objects:
            if issubclass(rel.related_model, CaseModel) and rel.related_name != "+":
                names.add(rel.get_accessor_name())
    return names


def receiver_names(node: ast.AST) -> set[str]:
    """Every name and attribute in the chain a call is made on."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def bulk_writes_on_case_models(source: str, models: set[str], accessors: set[str]) -> list:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in BULK_WRITES
        ):
            continue
        chain = receiver_names(node.func.value)
        query_like = chain & {"objects", "_default_manager", "_base_manager", "filter", "all"}
        if (chain & models and query_like) or chain & accessors:
            found.append((node.lineno, ast.unparse(node)[:100]))
    return found


def local_app_sources():
    for config in apps.get_app_configs():
        path = Path(config.path)
        # The project's own apps: not the packages of a virtualenv inside it.
        if ROOT not in path.parents or "site-packages" in path.parts:
            continue
        for file in sorted(path.rglob("*.py")):
            if "migrations" in file.parts:
                continue
            yield file


def test_no_app_writes_case_models_in_bulk():
    models, accessors = case_model_names(), case_accessor_names()
    assert {"Participant", "Referral"} <= models  # the walk knows the case models
    offenders = []
    for file in local_app_sources():
        for line, code in bulk_writes_on_case_models(file.read_text(), models, accessors):
            offenders.append(f"{file.relative_to(ROOT)}:{line}: {code}")
    assert not offenders, "bulk write bypasses history and the access log:\n" + "\n".join(offenders)


def test_the_walk_catches_each_kind_of_bypass():
    models, accessors = {"Tenancy"}, {"tenancies"}
    bad = """
Tenancy.objects.filter(pk=1).update(ended_on=None)
Tenancy.objects.bulk_create([Tenancy()])
Tenancy._base_manager.bulk_update(rows, ["rent"])
participant.tenancies.update(rent=0)
"""
    assert len(bulk_writes_on_case_models(bad, models, accessors)) == 4
    fine = """
context.update(extra)
Report.objects.filter(pk=1).update(state="done")
tenancy.save()
"""
    assert bulk_writes_on_case_models(fine, models, accessors) == []


# simple-history's private attributes: who made the change, why, and skipping
# the history row. Set in one place, the write path; anywhere else they would
# be a second, unchecked way to write a case record.
PRIVATE_HISTORY_ATTRIBUTES = {"_history_user", "_change_reason", "skip_history_when_saving"}
WRITE_PATH = ROOT / "bostadforst" / "records.py"


def private_history_writes(source: str) -> list:
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = [node.target] if not isinstance(node, ast.Delete) else node.targets
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in PRIVATE_HISTORY_ATTRIBUTES:
                found.append((node.lineno, ast.unparse(node)[:100]))
    return found


def test_only_the_write_path_sets_simple_historys_private_attributes():
    offenders = [
        f"{file.relative_to(ROOT)}:{line}: {code}"
        for file in local_app_sources()
        if file != WRITE_PATH
        for line, code in private_history_writes(file.read_text())
    ]
    assert not offenders, "use bostadforst.records.record_save:\n" + "\n".join(offenders)
    assert private_history_writes(WRITE_PATH.read_text()), "the walk no longer sees the write path"


def test_the_private_attribute_walk_catches_each_kind():
    bad = """
visit._history_user = user
tenancy._change_reason = "why"
visit.skip_history_when_saving = True
del visit.skip_history_when_saving
"""
    assert len(private_history_writes(bad)) == 4
    assert private_history_writes("user = visit._history_user\nvisit.note = 'x'") == []
