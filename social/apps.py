from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Members' content: follows, posts, comments and the home feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "social"
    verbose_name = "Posts and follows"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from accounts import signals
        from accounts.flows.leaving import register_export_section
        from accounts.models import Role, User
        from social import landing
        from social.exports import member_content
        from social.models import Comment, Post

        register_export_section("social", member_content)
        for model in (Post, Comment, Role):
            post_save.connect(
                landing.on_content_saved, sender=model, dispatch_uid=f"landing-{model}"
            )
        post_save.connect(landing.on_member_saved, sender=User, dispatch_uid="landing-member")
        for model in (User, Role):
            post_delete.connect(
                landing.on_deleted, sender=model, dispatch_uid=f"landing-del-{model}"
            )
        signals.members_updated.connect(landing.on_content_saved, dispatch_uid="landing-members")
        signals.roles_updated.connect(landing.on_content_saved, dispatch_uid="landing-roles")
