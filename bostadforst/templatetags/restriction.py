"""``{% processing_restriction_banner %}``: the banner of restricted processing
(GDPR art. 18) on every page that shows a record of a restricted person.

The base template renders it above each page's content. Which people a page
shows is what the read path noted on the request (``records.record_read``:
``request.record_person_ids``), so a page about one record of the person (the
participant page, a visit, a plan, a tenancy, a form about them) gets the
banner without a line of its own; a page that read no record asks nothing.
"""

from django import template

from ..registry import processing_restrictions

register = template.Library()


@register.inclusion_tag("_partials/processing_restriction.html", takes_context=True)
def processing_restriction_banner(context) -> dict:
    request = context.get("request")
    person_ids = getattr(request, "record_person_ids", None)
    restrictions = processing_restrictions(person_ids) if person_ids else {}
    return {"restrictions": [restrictions[pk] for pk in sorted(restrictions)]}
