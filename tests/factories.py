"""Test data: members built as the application would build them."""

import factory

from accounts.models import User
from social import markup

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    confirmed = True

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            user.save(update_fields=["password"])


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.Post"

    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Post number {n}")
    body_html = factory.LazyAttribute(lambda post: markup.render(post.body))


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.Comment"

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Comment number {n}")
    body_html = factory.LazyAttribute(lambda comment: markup.render(comment.body))


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.Follow"

    follower = factory.SubFactory(UserFactory)
    followed = factory.SubFactory(UserFactory)
