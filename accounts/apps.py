from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"


class OffbrandAdminConfig(AdminConfig):
    """The Django admin, opened to members whose role has ADMIN."""

    default_site = "accounts.sites.OffbrandAdminSite"
