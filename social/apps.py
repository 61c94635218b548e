from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Members' content: follows, posts, comments and the home feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "social"
    verbose_name = "Posts and follows"
