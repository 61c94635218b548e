"""How every form on the site renders: one field template, no colon after labels."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Django's widgets, with the site's field group (label, hint, errors, widget).

    The field group is `templates/includes/field.html`; the error summary at
    the top of a page is `templates/includes/error_summary.html`.
    """

    field_template_name = "includes/field.html"
