r"""Which characters a username may hold.

Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) takes letters, digits and
`@ . + - _`, but no combining mark (Unicode categories Mn and Mc): the vowel
signs and viramas that Hindi, Tamil, Bengali, Thai and most scripts of South
and Southeast Asia write every name with (`दिव्या`, `முருகன்`). Here a mark is
accepted where it belongs to a letter: right after a letter or another mark.
A mark at the start, or after a digit or a separator, is no letter's. And a
letter carries few: no real name stacks more than two accents (Inherited marks:
`́`, Arabic's `ّ` with a vowel) or five marks in all (Burmese `ကျော်` has four),
while a tower of them ("Zalgo" text) spills over the lines around the name.

`@` stays a character a stored name may hold (names taken before 2026-12-06
are kept), but no new or changed name may (`UserManager.username_problem`), so
the message names only what a new name may use.
"""

import re
import unicodedata

from confusable_homoglyphs.categories import alias as script_of
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

USERNAME_CHARACTERS = "A username can only use letters, digits and . + - _ (no spaces)."
USERNAME_STARTS_WITH_MARK = (
    "A username can't start with a vowel sign or accent: type it after its letter."
)
USERNAME_TOO_MANY_MARKS = (
    "A letter of a username can carry at most 2 accents, or 5 vowel signs and accents."
)
MAX_ACCENTS, MAX_MARKS = 2, 5

_CHARACTER = re.compile(r"[\w.@+-]")  # Django's set, one character at a time
_MARKS = frozenset({"Mn", "Mc"})


def characters_problem(username: str) -> tuple[str, str] | None:
    """(message, code) when `username` holds a character it may not, else None."""
    if not username:
        return USERNAME_CHARACTERS, "invalid"
    previous = None  # "letter", "mark" or "other" (digits, `_`, separators)
    marks = accents = 0  # on the letter before
    for char in username:
        if unicodedata.category(char) in _MARKS:
            if previous is None:
                return USERNAME_STARTS_WITH_MARK, "starts_with_mark"
            if previous == "other":
                return USERNAME_CHARACTERS, "invalid"
            marks += 1
            accents += script_of(char) == "INHERITED"
            if marks > MAX_MARKS or accents > MAX_ACCENTS:
                return USERNAME_TOO_MANY_MARKS, "too_many_marks"
            previous = "mark"
        elif _CHARACTER.fullmatch(char):
            previous = "letter" if char.isalpha() else "other"
            marks = accents = 0
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
