"""Reads of `django.conf.settings` at the interpreter's own speed.

Django keeps each setting in the `settings` object's `__dict__` after its first
read, but every read still runs `LazyObject.__getattribute__` in Python: it
exists so that `hasattr(lazy, "__getitem__")` follows the wrapped object, and
on `settings` it cost about 2,000 instructions a read, some 130 reads a sign-in
(bench/README.md, issue 16). `install()` (from `AccountsConfig.ready`) gives
the one `settings` object a subclass of its class without that method: a read
of a kept setting is a plain attribute lookup, a first read still goes through
`LazySettings.__getattr__` (which keeps it), and `override_settings` still
clears what was kept when it swaps the wrapped settings (`LazySettings.__setattr__`).
"""

from django.conf import LazySettings, settings


class KeptSettings(LazySettings):
    __getattribute__ = object.__getattribute__


def install() -> None:
    if type(settings) is KeptSettings:
        return
    if type(settings) is not LazySettings:
        raise RuntimeError(f"settings is a {type(settings)!r}: see offbrand/settings_reads.py")
    # LazyObject answers `__class__` with the wrapped object's class, so the
    # object's own class is set through object's descriptor.
    object.__dict__["__class__"].__set__(settings, KeptSettings)
