from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Members' content: follows, posts, comments and the home feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "social"
    verbose_name = "Posts and follows"

    def ready(self):
        from accounts.flows.leaving import register_export_section
        from social.exports import member_content

        register_export_section("social", member_content)
