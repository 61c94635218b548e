"""Signals for the writes Django's model signals do not report: set-based updates.

`post_save` is sent for each saved row; `QuerySet.update()` sends nothing. The
services that change many rows at once send these instead, so an app that
keeps a view of members or roles fresh (the landing page, `social.landing`)
hears of them without `accounts` depending on it.
"""

from django.dispatch import Signal

# Sent by `members_update` with `user_ids` (the members changed) and `fields`.
members_updated = Signal()
# Sent by `roles_seed` when it created or changed a role.
roles_updated = Signal()
