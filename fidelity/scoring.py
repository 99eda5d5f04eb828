"""The results of a fidelity self-assessment.

**The rule.** Items may have different scales (1–4 by default, the
administrator may choose another), so every score is first normalised to
0–1 on its own item's scale: ``(score - lowest) / (highest - lowest)``.

* A **domain's score** is the mean of its items' normalised scores, as a
  percentage (0–100 %). A domain with no scored item in the assessment has no
  score (None), not 0 %.
* The **overall score** is the mean of the domain percentages, each domain
  weighing the same whatever its number of items (as the Pathways scale
  reports the domains side by side). Domains without a score are left out;
  with no scored item at all there is no overall score.

Both are therefore within 0–100 % and monotone: raising any one score never
lowers its domain's or the overall score. ``tests/fidelity/test_scoring.py``
checks this with hypothesis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemScore:
    """One scored item: its domain (any key), the score and its scale."""

    domain: object
    value: int
    scale_min: int
    scale_max: int

    @property
    def normalised(self) -> float:
        span = self.scale_max - self.scale_min
        clamped = min(max(self.value, self.scale_min), self.scale_max)
        return (clamped - self.scale_min) / span if span > 0 else 0.0


def domain_percentages(scores: Iterable[ItemScore]) -> dict[object, float]:
    """Each domain's score in percent (0–100), for the domains that have a score."""
    sums: dict[object, list[float]] = {}
    for score in scores:
        sums.setdefault(score.domain, []).append(score.normalised)
    return {domain: 100 * sum(values) / len(values) for domain, values in sums.items()}


def overall_percentage(domain_scores: dict[object, float]) -> float | None:
    """The mean of the domain percentages; None when no domain has a score."""
    if not domain_scores:
        return None
    return sum(domain_scores.values()) / len(domain_scores)


@dataclass(frozen=True)
class DomainResult:
    domain: object
    percent: float | None
    items: int


@dataclass(frozen=True)
class AssessmentResult:
    domains: list[DomainResult]
    overall: float | None


def assessment_result(assessment, domains) -> AssessmentResult:
    """The results of ``assessment`` (its scores prefetched with their items)
    for each of ``domains`` (all domains, in order: a domain without scores in
    this assessment is listed without a score)."""
    scores = [
        ItemScore(
            domain=score.item.domain_id,
            value=score.value,
            scale_min=score.item.scale_min,
            scale_max=score.item.scale_max,
        )
        for score in assessment.scores.all()
    ]
    per_domain = domain_percentages(scores)
    counts: dict[object, int] = {}
    for score in scores:
        counts[score.domain] = counts.get(score.domain, 0) + 1
    return AssessmentResult(
        domains=[
            DomainResult(domain=d, percent=per_domain.get(d.pk), items=counts.get(d.pk, 0))
            for d in domains
        ],
        overall=overall_percentage(per_domain),
    )
