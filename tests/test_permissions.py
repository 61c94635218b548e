"""One permission system: `can()`, Django's `has_perm`, templates, the shell, the admin."""

import subprocess
import sys

import pytest
from django.contrib import admin
from django.contrib.auth import mixins as django_mixins
from django.contrib.auth.decorators import permission_required as django_permission_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.views import View

from accounts import mixins
from accounts.models import AnonymousVisitor, Permission, Role, User
from tests.factories import UserFactory

PERM_NAMES = ["follow", "comment", "write", "moderate", "admin"]
GRANTED = {
    "User": {"follow", "comment", "write"},
    "Moderator": {"follow", "comment", "write", "moderate"},
    "Administrator": set(PERM_NAMES),
}


def render(source, **context):
    return engines["django"].from_string(source).render(context)


# --- Templates ---------------------------------------------------------------


def test_permission_renders_in_a_template():
    assert render("{{ Permission.MODERATE }}", Permission=Permission) == "8"


@pytest.mark.parametrize(
    ("role_name", "expected"), [("User", "no"), ("Moderator", "yes"), ("Administrator", "yes")]
)
def test_can_filter_takes_the_flag_or_its_name(roles, role_name, expected):
    user = UserFactory(role=roles[role_name])
    by_flag = "{% load accounts %}{% if user|can:Permission.MODERATE %}yes{% else %}no{% endif %}"
    by_name = '{% load accounts %}{% if user|can:"moderate" %}yes{% else %}no{% endif %}'
    assert render(by_flag, user=user, Permission=Permission) == expected
    assert render(by_name, user=user) == expected


def test_every_page_has_permission_and_perms_in_its_context(client, moderator):
    client.force_login(moderator)
    response = client.get("/")
    assert response.status_code == 200
    context = response.context
    assert context["Permission"] is Permission
    assert context["perms"]["accounts"]["moderate"]
    assert not context["perms"]["accounts"]["admin"]
    page = engines["django"].from_string(
        "{% load accounts %}{{ Permission.ADMIN }} {{ perms.accounts.moderate }} "
        "{{ user|can:Permission.MODERATE }}"
    )
    # Rendered with the request: the context processors supply `Permission` and `perms`.
    assert page.render({}, response.wsgi_request) == "16 True True"


def test_manage_py_shell_imports_the_permission_flags():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "print(Permission.MODERATE.perm_names)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "['accounts.moderate']" in result.stdout


# --- Django's has_perm -------------------------------------------------------


@pytest.mark.parametrize("role_name", list(GRANTED))
@pytest.mark.parametrize("name", PERM_NAMES)
def test_has_perm_answers_from_the_role(roles, role_name, name):
    user = User.objects.select_related("role").get(pk=UserFactory(role=roles[role_name]).pk)
    granted = name in GRANTED[role_name]
    assert user.has_perm(f"accounts.{name}") is granted
    assert user.can(Permission[name.upper()]) is granted


@pytest.mark.parametrize("name", PERM_NAMES)
def test_suspended_and_anonymous_have_no_permission(roles, name):
    suspended = UserFactory(role=roles["Administrator"], is_active=False)
    assert not suspended.has_perm(f"accounts.{name}")
    assert not AnonymousUser().has_perm(f"accounts.{name}")
    assert not AnonymousVisitor().has_perm(f"accounts.{name}")


def test_an_edited_role_changes_has_perm_and_can_together(roles):
    Role.objects.filter(name="User").update(permissions=Permission.FOLLOW | Permission.MODERATE)
    user = User.objects.get(pk=UserFactory(role=roles["User"]).pk)
    assert user.has_perm("accounts.moderate") and user.can(Permission.MODERATE)
    assert not user.has_perm("accounts.write") and not user.can(Permission.WRITE)
    assert user.get_all_permissions() == {"accounts.follow", "accounts.moderate"}


def test_other_permission_names_are_not_granted_to_members(moderator):
    assert not moderator.has_perm("accounts.change_user")
    assert not moderator.has_perm("accounts.delete")
    assert not moderator.has_perm("moderate")


def test_with_perm_lists_the_members_whose_role_grants_it(member, moderator, administrator):
    found = User.objects.with_perm("accounts.moderate", backend="accounts.backends.RoleBackend")
    assert set(found) == {moderator, administrator}


class DjangoModerateView(django_mixins.PermissionRequiredMixin, View):
    permission_required = "accounts.moderate"
    raise_exception = True

    def get(self, request):
        return HttpResponse("ok")


class OffbrandModerateView(mixins.PermissionRequiredMixin, View):
    permission_required = Permission.MODERATE
    raise_exception = True

    def get(self, request):
        return HttpResponse("ok")


@django_permission_required("accounts.moderate", raise_exception=True)
def django_decorated(request):
    return HttpResponse("ok")


@mixins.permission_required(Permission.MODERATE)
def offbrand_decorated(request):
    return HttpResponse("ok")


@pytest.mark.parametrize(
    "view",
    [
        DjangoModerateView.as_view(),
        OffbrandModerateView.as_view(),
        django_decorated,
        offbrand_decorated,
    ],
)
@pytest.mark.parametrize(("role_name", "allowed"), [("User", False), ("Moderator", True)])
def test_django_and_offbrand_guards_agree(roles, view, role_name, allowed):
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=UserFactory(role=roles[role_name]).pk)
    if allowed:
        assert view(request).status_code == 200
    else:
        with pytest.raises(PermissionDenied):
            view(request)


# --- One administrator -------------------------------------------------------


@pytest.mark.parametrize(
    ("role_name", "admin"), [("User", False), ("Moderator", False), ("Administrator", True)]
)
def test_staff_and_superuser_follow_the_admin_flag(roles, role_name, admin):
    user = UserFactory(role=roles[role_name])
    assert user.is_staff is admin and user.is_superuser is admin


def test_a_role_given_admin_makes_its_members_administrators(client, roles):
    user = UserFactory(role=roles["Moderator"])
    client.force_login(user)
    assert client.get("/admin/").status_code == 403
    Role.objects.filter(name="Moderator").update(permissions=Permission.all())
    user.refresh_from_db()
    assert user.is_superuser and user.is_staff
    assert client.get("/admin/").status_code == 200


def test_superuser_status_cannot_be_set_on_its_own(roles):
    with pytest.raises(AttributeError):
        UserFactory(role=roles["User"], is_superuser=True)


def test_the_member_editor_has_no_staff_or_superuser_box(client, administrator, member):
    """The admin's member page is the site's editor: no box sets staff or superuser alone."""
    client.force_login(administrator)
    response = client.get(f"/admin/accounts/user/{member.pk}/change/", follow=True)
    form = response.context["form"]
    assert "is_superuser" not in form.fields and "is_staff" not in form.fields
    assert "ADMIN flag" in response.content.decode()
    response = client.post(
        f"/users/{member.username}/edit/",
        {
            "username": member.username,
            "email": member.email,
            "role": member.role_id,
            "confirmed": "on",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert not member.is_superuser and not member.can(Permission.ADMIN)


@pytest.mark.parametrize(
    ("role_name", "allowed"), [("User", False), ("Moderator", False), ("Administrator", True)]
)
def test_the_admins_own_permission_checks_agree_with_the_role(roles, role_name, allowed):
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=UserFactory(role=roles[role_name]).pk)
    member_admin = admin.site._registry[User]
    assert admin.site.has_permission(request) is allowed
    assert member_admin.has_view_permission(request) is allowed
    assert member_admin.has_change_permission(request) is allowed
    assert request.user.has_perm("accounts.admin") is allowed
