from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_migrate

        from accounts import checks, receivers  # noqa: F401 (checks register themselves)
        from offbrand import csrf, hmacs, settings_reads

        csrf.install()
        hmacs.install()
        settings_reads.install()

        post_migrate.connect(
            receivers.create_cache_table, sender=self, dispatch_uid="offbrand.cache_table"
        )
        # Django's own receiver (it writes last_login alone) gives way to ours.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(receivers.record_sign_in_time, dispatch_uid="offbrand.sign_in_time")
        user_logged_in.connect(receivers.on_sign_in, dispatch_uid="offbrand.sign_in")
        user_logged_out.connect(receivers.on_sign_out, dispatch_uid="offbrand.sign_out")


class OffbrandAdminConfig(AdminConfig):
    """The Django admin, opened to members whose role has ADMIN."""

    default_site = "accounts.sites.OffbrandAdminSite"
