"""Every URL in the URLconf against every kind of visitor.

The table below says, per URL name, what each visitor gets on a GET. A URL added
to the URLconf without a row here fails `test_every_url_has_an_expectation`.
"""

from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.mfa.models import Passkey
from accounts.models import ModerationAction
from social.models import ContentAction
from tests.factories import CommentFactory, PostFactory, UserFactory

VISITORS = ("anonymous", "unconfirmed", "user", "moderator", "administrator")


@dataclass(frozen=True)
class Expect:
    """Acceptable statuses and, for redirects, where the redirect must point."""

    statuses: frozenset[int]
    location: str | None = None  # a prefix of the Location header
    not_location: str | None = None  # a prefix the Location header must not have

    def matches(self, response) -> bool:
        if response.status_code not in self.statuses:
            return False
        if response.status_code in (301, 302):
            where = response.headers.get("Location", "")
            if self.location is not None and not where.startswith(self.location):
                return False
            if self.not_location is not None and where.startswith(self.not_location):
                return False
        return True

    def __str__(self):
        statuses = "/".join(str(s) for s in sorted(self.statuses))
        return f"{statuses} -> {self.location}" if self.location else statuses


def status(*codes: int) -> Expect:
    return Expect(frozenset(codes))


OK = status(200)
BAD_LINK = status(400)
FORBIDDEN = status(403)
NOT_FOUND = status(404)
GET_NOT_ALLOWED = status(405)
TO_LOGIN = Expect(frozenset({302}), "/accounts/login/?next=")
TO_UNCONFIRMED = Expect(frozenset({302}), "/accounts/unconfirmed/")
TO_INDEX = Expect(frozenset({302}), "/")
TO_ADMIN_LOGIN = Expect(frozenset({302}), "/admin/login/?next=")
TO_ADMIN_INDEX = Expect(frozenset({302}), "/admin/")
TO_SITE_PASSWORD = Expect(frozenset({302}), "/accounts/password/change/")
# An administrator stays in the admin: never bounced to its sign-in page.
WITHIN_ADMIN = Expect(frozenset({200, 302}), "/admin/", not_location="/admin/login/")
TO_SIGN_IN_PAGE = Expect(frozenset({302}), "/accounts/login/")
TO_SECURITY = Expect(frozenset({302}), "/accounts/security/")
TO_PASSWORD_CHECK = Expect(frozenset({302}), "/accounts/reauthenticate/")


def row(anonymous, unconfirmed, user, moderator, administrator) -> dict[str, Expect]:
    return dict(
        zip(VISITORS, (anonymous, unconfirmed, user, moderator, administrator), strict=True)
    )


def open_to_all(expect=OK) -> dict[str, Expect]:
    """A page for everyone; an unconfirmed member is sent to the explanation."""
    return row(expect, TO_UNCONFIRMED, expect, expect, expect)


def members_only() -> dict[str, Expect]:
    return row(TO_LOGIN, TO_UNCONFIRMED, OK, OK, OK)


def moderators_only() -> dict[str, Expect]:
    return row(TO_LOGIN, TO_UNCONFIRMED, FORBIDDEN, OK, OK)


def administrators_only() -> dict[str, Expect]:
    return row(TO_LOGIN, TO_UNCONFIRMED, FORBIDDEN, FORBIDDEN, OK)


def admin_site(
    administrator=WITHIN_ADMIN, anonymous=TO_ADMIN_LOGIN, members=FORBIDDEN
) -> dict[str, Expect]:
    """The Django admin: administrators only; a visitor is asked to sign in (on the
    site's page, through the admin's), a member without ADMIN gets the site's 403."""
    return row(anonymous, TO_UNCONFIRMED, members, members, administrator)


def post_only() -> dict[str, Expect]:
    """An action: visitors are asked to sign in; members may only POST to it."""
    return row(TO_LOGIN, TO_UNCONFIRMED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED)


# Explicit rows, keyed by URL name (unnamed patterns by their route).
EXPECTATIONS: dict[str, dict[str, Expect]] = {
    "index": row(OK, OK, OK, OK, OK),
    "healthz": row(OK, OK, OK, OK, OK),
    # Static-like resources: an image must load on every page that shows it,
    # including the pages an unconfirmed member may see.
    "identicon": row(OK, OK, OK, OK, OK),
    "media": row(OK, OK, OK, OK, OK),
    # accounts/
    "accounts:register": open_to_all(),
    "accounts:register_done": row(OK, OK, OK, OK, OK),
    "accounts:confirm_resend": row(
        TO_LOGIN, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    "accounts:confirm": row(BAD_LINK, BAD_LINK, BAD_LINK, BAD_LINK, BAD_LINK),
    "accounts:unconfirmed": row(TO_LOGIN, OK, TO_INDEX, TO_INDEX, TO_INDEX),
    "accounts:login": open_to_all(),
    "accounts:logout": row(
        GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    "accounts:password_change": members_only(),
    "accounts:password_reset": open_to_all(),
    "accounts:password_reset_done": open_to_all(),
    # Junk uid/token: Django shows the "invalid link" page with a 200.
    "accounts:password_reset_confirm": open_to_all(),
    "accounts:password_reset_complete": open_to_all(),
    "accounts:profile_edit": members_only(),
    # An unconfirmed member may fix a mistyped address.
    "accounts:email_change": row(TO_LOGIN, OK, OK, OK, OK),
    "accounts:email_change_confirm": row(BAD_LINK, BAD_LINK, BAD_LINK, BAD_LINK, BAD_LINK),
    "accounts:settings": members_only(),
    # The password check before an email change, which an unconfirmed member may make.
    "accounts:reauthenticate": row(TO_LOGIN, OK, OK, OK, OK),
    "accounts:sessions": members_only(),
    # Leaving is open to unconfirmed members too.
    "accounts:export": row(TO_LOGIN, OK, OK, OK, OK),
    "accounts:delete": row(TO_LOGIN, OK, OK, OK, OK),
    "accounts:session_end": row(
        TO_LOGIN, TO_UNCONFIRMED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    "accounts:sessions_end_others": row(
        TO_LOGIN, TO_UNCONFIRMED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    # accounts/ second factors: the sign-in step needs a pending sign-in.
    "mfa:authenticate": row(
        TO_SIGN_IN_PAGE, TO_UNCONFIRMED, TO_SIGN_IN_PAGE, TO_SIGN_IN_PAGE, TO_SIGN_IN_PAGE
    ),
    "mfa:cancel": row(
        GET_NOT_ALLOWED, TO_UNCONFIRMED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    "mfa:passkey_login": row(
        GET_NOT_ALLOWED, TO_UNCONFIRMED, GET_NOT_ALLOWED, GET_NOT_ALLOWED, GET_NOT_ALLOWED
    ),
    "mfa:index": members_only(),
    # Members without a factor are sent to the password check.
    "mfa:reauthenticate": row(
        TO_LOGIN, TO_UNCONFIRMED, TO_PASSWORD_CHECK, TO_PASSWORD_CHECK, TO_PASSWORD_CHECK
    ),
    "mfa:passkey_add": members_only(),
    # Another member's passkey: as if it did not exist.
    "mfa:passkey_remove": row(TO_LOGIN, TO_UNCONFIRMED, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "mfa:totp_setup": members_only(),
    "mfa:totp_remove": row(TO_LOGIN, TO_UNCONFIRMED, TO_SECURITY, TO_SECURITY, TO_SECURITY),
    "mfa:recovery_codes": members_only(),
    # members
    "profile": open_to_all(),
    "member_edit": administrators_only(),
    "member_factors_remove": administrators_only(),
    "moderation": moderators_only(),
    "moderate": moderators_only(),
    # social: content is public to read; acting needs the role's flag.
    "social:post_create": members_only(),
    "social:post": open_to_all(),
    # The post is target's: nobody else may edit it, administrators included.
    "social:post_edit": row(TO_LOGIN, TO_UNCONFIRMED, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "social:post_delete": post_only(),
    "social:comment_delete": post_only(),
    "social:follow": post_only(),
    "social:unfollow": post_only(),
    "social:followers": open_to_all(),
    "social:following": open_to_all(),
    "social:moderate_post": moderators_only(),
    "social:moderate_comment": moderators_only(),
    "social:moderation_record": moderators_only(),
}

# The admin's own exceptions to the prefix rule.
ADMIN_EXCEPTIONS: dict[str, dict[str, Expect]] = {
    # The admin signs in on the site's page; an administrator moves on.
    "admin:login": admin_site(administrator=TO_ADMIN_INDEX, anonymous=TO_LOGIN),
    # ... and changes the password on the site's form.
    "admin:password_change": admin_site(administrator=TO_SITE_PASSWORD),
    "admin:password_change_done": admin_site(administrator=TO_SITE_PASSWORD),
    # Signing out is POST-only; the admin sends visitors to its index.
    "admin:logout": admin_site(administrator=GET_NOT_ALLOWED, anonymous=TO_ADMIN_INDEX),
    # Autocomplete without its query parameters is refused even to administrators.
    "admin:autocomplete": admin_site(administrator=FORBIDDEN),
    # A member has no public page on this site, so "view on site" finds nothing.
    "admin:view_on_site": admin_site(administrator=NOT_FOUND),
    # The moderation log is read-only: no adding, no deleting.
    "admin:accounts_moderationaction_add": admin_site(administrator=FORBIDDEN),
    "admin:accounts_moderationaction_delete": admin_site(administrator=FORBIDDEN),
    # So is the task results table of django-tasks-db.
    "admin:django_tasks_database_dbtaskresult_add": admin_site(administrator=FORBIDDEN),
    "admin:django_tasks_database_dbtaskresult_delete": admin_site(administrator=FORBIDDEN),
    # Members' content is read-only in the admin: hidden and restored by its actions.
    **{
        f"admin:social_{model}_{view}": admin_site(administrator=FORBIDDEN)
        for model in ("post", "comment", "contentaction")
        for view in ("add", "delete")
    },
    # One member editor: the admin's member page leads to the site's (`member_edit`).
    "admin:accounts_user_change": admin_site(
        administrator=Expect(frozenset({302}), "/users/target/edit/?next=")
    ),
    # An unknown admin path.
    "<unnamed>:admin/(?P<url>.*)$": admin_site(administrator=NOT_FOUND),
}

ADMIN_PREFIXES = ("admin:", "<unnamed>:admin/")
# The admin pages the matrix must exercise (they exist under these names).
ADMIN_MUST_HAVE = {
    "admin:index",
    "admin:accounts_user_changelist",
    "admin:accounts_user_change",
    "admin:accounts_role_changelist",
    "admin:accounts_moderationaction_changelist",
    "admin:social_post_changelist",
    "admin:social_post_change",
    "admin:social_comment_changelist",
    "admin:social_contentaction_changelist",
}


def is_admin(key: str) -> bool:
    return key.startswith(ADMIN_PREFIXES)


def expectation_for(key: str) -> dict[str, Expect]:
    if key in EXPECTATIONS:
        return EXPECTATIONS[key]
    if key in ADMIN_EXCEPTIONS:
        return ADMIN_EXCEPTIONS[key]
    if is_admin(key):
        return admin_site()
    raise KeyError(key)


@dataclass(frozen=True)
class Route:
    key: str  # the URL name, namespaced, or "<unnamed>:<route>"
    route: str  # the full route, with parameters unfilled
    pattern: URLPattern


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            route = prefix + str(pattern.pattern)
            if pattern.name:
                key = f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                key = f"<unnamed>:{route}"
            yield Route(key, route, pattern)


def all_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def test_every_url_has_an_expectation():
    keys = {route.key for route in all_routes()}
    plain = {key for key in keys if not is_admin(key)}
    assert plain == set(EXPECTATIONS), (
        f"missing: {sorted(plain - set(EXPECTATIONS))}; stale: {sorted(set(EXPECTATIONS) - plain)}"
    )
    admin = {key for key in keys if is_admin(key)}
    assert set(ADMIN_EXCEPTIONS) <= admin, sorted(set(ADMIN_EXCEPTIONS) - admin)
    assert admin >= ADMIN_MUST_HAVE


@pytest.fixture
def world(roles, member, moderator, administrator, unconfirmed, media_root):
    """The visitors, and real objects for every path parameter."""
    target = UserFactory(username="target", email="target@example.com")
    action = ModerationAction.objects.create(
        actor=moderator, member=target, kind=ModerationAction.Kind.SUSPEND, reason="spam"
    )
    passkey = Passkey.objects.create(
        user=target, name="Target's key", credential_id="AAAA", public_key=b"key"
    )
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root / "hello.txt").write_text("hello")
    user_type = ContentType.objects.get_for_model(target)
    post = PostFactory(author=target)
    comment = CommentFactory(post=post, author=target)
    content_action = ContentAction.objects.create(
        actor=moderator, member=target, kind=ContentAction.Kind.HIDE, post=post, reason="spam"
    )
    identicon = target.avatar_url("small")
    assert identicon.startswith("/avatars/identicon/")
    return {
        "users": {
            "anonymous": None,
            "unconfirmed": unconfirmed,
            "user": member,
            "moderator": moderator,
            "administrator": administrator,
        },
        "paths": {
            "identicon": identicon,
            "media": "/media/hello.txt",
            "accounts:confirm": "/accounts/confirm/not-a-real-token.abc123:xyz/",
            "accounts:email_change_confirm": "/accounts/email/confirm/not-a-real-token.abc:x/",
            "accounts:password_reset_confirm": "/accounts/password/reset/MTIzNDU/junk-token/",
            "profile": "/users/target/",
            "member_edit": "/users/target/edit/",
            "member_factors_remove": "/users/target/factors/remove/",
            "moderate": "/moderate/users/target/suspend/",
            "accounts:session_end": "/accounts/sessions/1/end/",
            "social:post": f"/posts/{post.pk}/",
            "social:post_edit": f"/posts/{post.pk}/edit/",
            "social:post_delete": f"/posts/{post.pk}/delete/",
            "social:comment_delete": f"/comments/{comment.pk}/delete/",
            "social:follow": "/users/target/follow/",
            "social:unfollow": "/users/target/unfollow/",
            "social:followers": "/users/target/followers/",
            "social:following": "/users/target/following/",
            "social:moderate_post": f"/moderate/posts/{post.pk}/hide/",
            "social:moderate_comment": f"/moderate/comments/{comment.pk}/hide/",
            "mfa:passkey_remove": f"/accounts/security/passkeys/{passkey.pk}/remove/",
            "admin:view_on_site": f"/admin/r/{user_type.pk}/{target.pk}/",
            "admin:auth_user_password_change": f"/admin/accounts/user/{target.pk}/password/",
            "admin:app_list": "/admin/accounts/",
            "<unnamed>:admin/(?P<url>.*)$": "/admin/no-such-page/",
        },
        "objects": {
            "accounts/user/": target.pk,
            "accounts/role/": target.role_id,
            "accounts/moderationaction/": action.pk,
            "django_tasks_database/dbtaskresult/": "00000000-0000-0000-0000-000000000000",
            "social/post/": post.pk,
            "social/comment/": comment.pk,
            "social/contentaction/": content_action.pk,
        },
    }


def url_for(route: Route, world) -> str:
    if route.key in world["paths"]:
        return world["paths"][route.key]
    path = route.route
    if "<path:object_id>" in path:
        model = next(prefix for prefix in world["objects"] if f"admin/{prefix}" in path)
        path = path.replace("<path:object_id>", str(world["objects"][model]))
    assert "<" not in path and "(" not in path and "^" not in path, (
        f"no value for the parameters of {route.key}: {route.route}"
    )
    return "/" + path


def test_access_matrix(world, capsys):
    routes = all_routes()
    clients = {}
    for name, user in world["users"].items():
        clients[name] = Client()
        if user is not None:
            clients[name].force_login(user)

    wrong = []
    cells = 0
    for route in routes:
        url = url_for(route, world)
        for visitor in VISITORS:
            expect = expectation_for(route.key)[visitor]
            response = clients[visitor].get(url)
            cells += 1
            if not expect.matches(response):
                got = f"{response.status_code} {response.headers.get('Location', '')}".strip()
                wrong.append(f"{visitor:>13} GET {url} ({route.key}): want {expect}, got {got}")

    summary = f"access matrix: {len(routes)} URLs x {len(VISITORS)} visitors, {cells} cells"
    assert not wrong, summary + f", {len(wrong)} unexpected:\n" + "\n".join(wrong)
    with capsys.disabled():
        print(f"\n{summary}, all as expected")
