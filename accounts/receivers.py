"""Signal receivers: connected in `AccountsConfig.ready`."""

from accounts import services


def count_failed_login(sender, credentials, request=None, **kwargs):
    services.login_failed(request, credentials.get("username") or "")
