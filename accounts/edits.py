"""Edit forms that write only what their editor changed, measured against what they showed.

A page shows stored values; by the time it is saved someone else may have
changed the row (a moderator's suspension, the member's confirmed new
address, their own edit). Measured against the row as it is now, every
field the page showed back looks "changed", and saving it reverts the
other person's change in the editor's name. Measured against the values the
page showed (Django's `show_hidden_initial`: each input carries its shown
value in a hidden `initial-<name>` input), only the editor's own changes
are written; and one that collides with a change made meanwhile is refused
with the current value (`EditConflict`), not saved over it.
"""

from copy import copy

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict


class EditConflict(Exception):
    """Fields the editor changed that someone else changed since the page was shown."""

    def __init__(self, fields: list[str], current) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields
        self.current = current  # the row as it is now (locked)


def _as_data(field: forms.Field, value):
    """A value as a browser would post it for `field`."""
    value = field.prepare_value(value)
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return "" if value is None else str(value)


def _put(data, name: str, value) -> None:
    if isinstance(value, list):
        data.setlist(name, value)
    else:
        data[name] = value


def _newlines(value):
    """Browsers post every line break as CRLF; a stored value may hold bare LFs."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    if isinstance(value, (list, tuple)):
        return [_newlines(item) for item in value]
    return value


def _differs(field: forms.Field, stored, shown) -> bool:
    """Is the stored value no longer the one the page showed? Both are read as the
    field reads input (stripped, normalised), so a value that only looks
    different once posted is no conflict, and saving the page again can succeed."""
    try:
        stored = field.to_python(_newlines(_as_data(field, stored)))
    except ValidationError:
        return True
    return field.has_changed(stored, _newlines(shown))


def _in_words(field: forms.Field, value) -> str:
    """How the page would show `value`: a box ticked or not, an option's label, the text."""
    if isinstance(field, forms.BooleanField):
        return "ticked" if value else "not ticked"
    if hasattr(field, "choices"):
        labels = {str(key): str(label) for key, label in field.choices}
        values = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(labels.get(str(field.prepare_value(v)), str(v)) for v in values) or "none"
    return f"“{value}”" if value not in (None, "") else "empty"


class ShownValuesMixin:
    """For a ModelForm: `changed_data` is what the editor changed on the page they saw.

    `shown_fields` (default: the model fields of `Meta.fields`) carry their
    shown value. A submission without it (a client that did not render the
    page) is measured against the row, as Django would.
    """

    shown_fields: list[str] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.tracked_fields():
            self.fields[name].show_hidden_initial = True
        if self.is_bound and not self._page_was_shown():
            # Posted without the page (an old page, a script): measured against the row.
            now = self.current_values(self.instance)
            self.data = data = self.data.copy()
            for name in self.tracked_fields():
                _put(data, self[name].html_initial_name, _as_data(self.fields[name], now[name]))

    def tracked_fields(self) -> list[str]:
        names = self.shown_fields or self._meta.fields
        return [name for name in names if name in self.fields]

    def _page_was_shown(self) -> bool:
        """Any shown value posted means the page was rendered: a missing one is then
        an empty list (a multiple choice shows nothing for it)."""
        return any(self[name].html_initial_name in self.data for name in self.tracked_fields())

    def current_values(self, instance) -> dict:
        """The stored values of `instance`, as the form's initial values would be."""
        return model_to_dict(instance, fields=self.tracked_fields())

    def changed_elsewhere(self, current) -> list[str]:
        """Fields the editor changed whose stored value is no longer the one shown."""
        now = self.current_values(current)
        conflicts = []
        for name in self.changed_data:
            if name not in now:
                continue
            field = self.fields[name]
            shown = field.hidden_widget().value_from_datadict(
                self.data, self.files, self[name].html_initial_name
            )
            if _differs(field, now[name], shown):
                conflicts.append(name)
        return conflicts

    def changed_model_fields(self) -> list[str]:
        """The columns of the editor's changes (not the form's extra fields)."""
        return [name for name in self.changed_data if name in self._meta.fields]

    def show_conflict(self, conflict: EditConflict) -> None:
        """After validation: show the page again as it is now: the editor's changes kept in their
        inputs, every other input and every shown value the current one, and
        on each colliding field what it is now. Saving it again is a knowing
        overwrite of those fields only."""
        now = self.current_values(conflict.current)
        mine = set(self.changed_data)
        data = self.data.copy()
        for name in self.tracked_fields():
            value = _as_data(self.fields[name], now[name])
            _put(data, self[name].html_initial_name, value)
            if name not in mine:
                _put(data, self[name].html_name, value)
        self.data = data
        self.instance = copy(conflict.current)
        self.initial.update(now)
        self._bound_fields_cache = {}
        self.__dict__.pop("changed_data", None)
        self.add_error(
            None,
            "Someone else changed this while you had the page open, so nothing was saved. "
            "The page now shows the current values, with your changes.",
        )
        for name in conflict.fields:
            self.add_error(
                name,
                "This was changed by someone else meanwhile; it is now "
                f"{_in_words(self.fields[name], now[name])}. Save again to replace it with yours.",
            )


def lock_unchanged_elsewhere(form: ShownValuesMixin):
    """Inside a transaction: lock the edited row, and raise `EditConflict` if a
    field the form changed was changed by someone else since it was shown.
    Returns the locked row as it is now."""
    current = form._meta.model._default_manager.select_for_update().get(pk=form.instance.pk)
    conflicts = form.changed_elsewhere(current)
    if conflicts:
        raise EditConflict(conflicts, current)
    return current


__all__ = ["EditConflict", "ShownValuesMixin", "lock_unchanged_elsewhere"]
