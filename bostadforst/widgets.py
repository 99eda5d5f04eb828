"""Form widgets of the whole project."""

from django import forms
from django.utils.html import format_html, format_html_join


class LongSelect(forms.Select):
    """A ``<select>`` of many options (every user of a municipality), written
    in Python: Django renders each option through a template, about a
    millisecond an option (1.1 s of the access log page with 1,000 users).
    The markup is the same as ``forms.Select``'s; option groups are not used."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        # As django/forms/widgets/attrs.html: in order, True bare, False left out.
        attrs = format_html_join(
            "",
            "{}{}",
            (
                (f" {key}", "" if value is True else format_html('="{}"', value))
                for key, value in widget["attrs"].items()
                if value is not False
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', widget["name"], attrs, options)
