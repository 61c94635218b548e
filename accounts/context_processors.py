from accounts.models import Permission


def permissions(request):
    """Make `Permission` available, e.g. `{% if user|can:Permission.MODERATE %}`."""
    return {"Permission": Permission}
