"""One factory per model, in its own app's ``tests/<app>/factories.py``: the
other apps' factories and tests import it from there (STYLE.md "Factories")."""

import importlib
from collections import defaultdict
from pathlib import Path

from factory.base import BaseFactory

TESTS = Path(__file__).parent


def factories_by_model() -> dict[type, set[type[BaseFactory]]]:
    """Every factory defined or imported in any ``tests/**/factories.py``, by
    the model it makes (an imported factory is the same class, counted once)."""
    found: dict[type, set[type[BaseFactory]]] = defaultdict(set)
    for path in sorted(TESTS.rglob("factories.py")):
        parts = path.relative_to(TESTS.parent).with_suffix("").parts
        module = importlib.import_module(".".join(parts))
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseFactory):
                model = value._meta.model
                if model is not None and not value._meta.abstract:
                    found[model].add(value)
    return found


def home_modules(model) -> set[str]:
    app = model._meta.app_label
    # bostadforst's user factory lives at the top: every app's tests use it.
    return {f"tests.{app}.factories"} | ({"tests.factories"} if app == "bostadforst" else set())


def test_no_two_factories_make_the_same_model():
    duplicates = {
        model._meta.label: sorted(f"{f.__module__}.{f.__qualname__}" for f in factories)
        for model, factories in factories_by_model().items()
        if len(factories) > 1
    }
    assert duplicates == {}


def test_each_factory_lives_in_its_models_app():
    misplaced = {
        f"{f.__module__}.{f.__qualname__}": model._meta.label
        for model, factories in factories_by_model().items()
        for f in factories
        if f.__module__ not in home_modules(model)
    }
    assert misplaced == {}
