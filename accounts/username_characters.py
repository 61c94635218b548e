r"""Which characters a username may hold.

Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) takes letters, digits and
`@ . + - _`, but no combining mark (Unicode categories Mn and Mc): the vowel
signs and viramas that Hindi, Tamil, Bengali, Thai and most scripts of South
and Southeast Asia write every name with (`दिव्या`, `முருகன்`). Here a mark is
accepted where it belongs to a letter: right after a letter or another mark.
A mark at the start, or after a digit or a separator, is no letter's.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

USERNAME_CHARACTERS = "A username can only use letters, digits and @ . + - _ (no spaces)."
USERNAME_STARTS_WITH_MARK = (
    "A username can't start with a vowel sign or accent: type it after its letter."
)

_CHARACTER = re.compile(r"[\w.@+-]")  # Django's set, one character at a time
_MARKS = frozenset({"Mn", "Mc"})


def characters_problem(username: str) -> tuple[str, str] | None:
    """(message, code) when `username` holds a character it may not, else None."""
    if not username:
        return USERNAME_CHARACTERS, "invalid"
    previous = None  # "letter", "mark" or "other" (digits, `_`, separators)
    for char in username:
        if unicodedata.category(char) in _MARKS:
            if previous is None:
                return USERNAME_STARTS_WITH_MARK, "starts_with_mark"
            if previous == "other":
                return USERNAME_CHARACTERS, "invalid"
            previous = "mark"
        elif _CHARACTER.fullmatch(char):
            previous = "letter" if char.isalpha() else "other"
        else:
            return USERNAME_CHARACTERS, "invalid"
    return None


@deconstructible(path="accounts.username_characters.UsernameCharactersValidator")
class UsernameCharactersValidator:
    """The model's and every form's username validator (`characters_problem`)."""

    def __call__(self, value):
        problem = characters_problem(str(value))
        if problem is not None:
            message, code = problem
            raise ValidationError(message, code=code)

    def __eq__(self, other):
        return isinstance(other, UsernameCharactersValidator)

    def __hash__(self):
        return hash(UsernameCharactersValidator)
