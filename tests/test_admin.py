"""The Django admin: who may enter, and what the role and user pages do."""

from datetime import UTC, datetime

import pytest

from accounts.models import Permission, Role, User
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [("User", False), ("Moderator", False), ("Administrator", True)],
)
def test_admin_index_is_open_only_to_the_admin_role(client, roles, role_name, allowed):
    client.force_login(UserFactory(role=roles[role_name]))
    response = client.get("/admin/")
    if allowed:
        assert response.status_code == 200
        assert b"Members and roles" in response.content
    else:
        # The site's own 403 page, not Django's "authenticated as ... but not authorized".
        assert response.status_code == 403
        html = response.content.decode()
        assert "You can't open this page" in html
        assert "not authorized" not in html


def test_admin_signs_in_on_the_site_sign_in_page(client, administrator, member, password):
    first = client.get("/admin/", follow=True)
    assert first.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"
    assert "<h1>Sign in</h1>" in first.content.decode()
    signed_in = client.post(
        "/accounts/login/?next=/admin/",
        {"username": administrator.username, "password": password, "next": "/admin/"},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0] == "/admin/"
    assert b"Members and roles" in signed_in.content


def test_a_member_signing_in_for_the_admin_gets_the_site_403(client, member, password):
    response = client.post(
        "/accounts/login/?next=/admin/",
        {"username": member.username, "password": password, "next": "/admin/"},
        follow=True,
    )
    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()
    assert client.get("/admin/login/").status_code == 403


def test_admin_pages_use_the_site_colours_and_its_date_format(client, administrator):
    administrator.date_joined = datetime(2026, 3, 7, 17, 21, tzinfo=UTC)
    administrator.save(update_fields=["date_joined"])
    client.force_login(administrator)
    html = client.get("/admin/accounts/user/").content.decode()
    assert "/static/css/palette.css" in html and "/static/css/admin.css" in html
    # One format everywhere: the member editor (the admin's member page) and the profile agree.
    html = client.get(
        f"/admin/accounts/user/{administrator.pk}/change/", follow=True
    ).content.decode()
    assert "7 March 2026, 17:21" in html
    assert "7 March 2026" in client.get(f"/users/{administrator.username}/").content.decode()


def test_role_admin_shows_permissions_as_checkboxes(admin_client, roles):
    moderator = roles["Moderator"]
    response = admin_client.get(f"/admin/accounts/role/{moderator.pk}/change/")
    html = response.content.decode()
    assert 'type="checkbox" name="permission_flags" value="8"' in html
    for flag in Permission:
        assert flag.name.title() in html
    form = response.context["adminform"].form
    assert set(form["permission_flags"].initial) == {1, 2, 4, 8}
    assert "permissions" not in form.fields


def test_role_admin_checkboxes_round_trip_to_the_integer(admin_client, roles):
    user_role = roles["User"]
    response = admin_client.post(
        f"/admin/accounts/role/{user_role.pk}/change/",
        {"name": "User", "default": "on", "permission_flags": ["1", "2", "4", "8"]},
    )
    assert response.status_code == 302
    user_role.refresh_from_db()
    assert user_role.permissions == 15
    admin_client.post(
        f"/admin/accounts/role/{user_role.pk}/change/",
        {"name": "User", "default": "on", "permission_flags": ["1"]},
    )
    user_role.refresh_from_db()
    assert user_role.permissions == Permission.FOLLOW


def test_role_admin_refuses_a_second_default_with_a_message(admin_client, roles):
    moderator = roles["Moderator"]
    response = admin_client.post(
        f"/admin/accounts/role/{moderator.pk}/change/",
        {"name": "Moderator", "default": "on", "permission_flags": ["1"]},
    )
    assert response.status_code == 200
    assert "Another role is already the default." in response.content.decode()
    moderator.refresh_from_db()
    assert not moderator.default


def test_role_admin_refuses_to_leave_no_default_role(admin_client, roles):
    user_role = roles["User"]
    response = admin_client.post(
        f"/admin/accounts/role/{user_role.pk}/change/",
        {"name": "User", "permission_flags": ["1"]},
    )
    assert response.status_code == 200
    assert "make another role the default instead" in response.content.decode()
    user_role.refresh_from_db()
    assert user_role.default and user_role.permissions == roles["User"].permissions


def test_role_list_shows_names_and_member_counts(admin_client, roles):
    UserFactory.create_batch(3)
    html = admin_client.get("/admin/accounts/role/").content.decode()
    assert "FOLLOW, COMMENT, WRITE, MODERATE, ADMIN" in html
    # Three new members plus the signed-in administrator's own role.
    assert '<td class="field-user_count">3</td>' in html


def test_user_list_shows_columns_filters_and_search(admin_client, member):
    response = admin_client.get("/admin/accounts/user/", {"q": "alice@"})
    html = response.content.decode()
    assert response.status_code == 200
    for column in ["Username", "Email address", "Role", "Confirmed", "Last seen"]:
        assert column in html
    assert "By role" in html and "By confirmed" in html
    assert list(response.context["cl"].result_list) == [member]


def test_bulk_mark_confirmed(admin_client, roles):
    users = UserFactory.create_batch(2, confirmed=False)
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "mark_confirmed", "_selected_action": [u.pk for u in users]},
    )
    assert User.objects.filter(pk__in=[u.pk for u in users], confirmed=True).count() == 2


def test_bulk_set_role(admin_client, roles):
    users = UserFactory.create_batch(2)
    moderator = Role.objects.get(name="Moderator")
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": f"set_role_{moderator.pk}", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    assert "2 members are now Moderator." in response.content.decode()
    assert set(
        User.objects.filter(pk__in=[u.pk for u in users]).values_list("role__name", flat=True)
    ) == {"Moderator"}


@pytest.mark.parametrize("role_name", ["Staff 100%", "50% off %(name)s", "%s%d%"])
def test_a_role_named_with_percent_signs_shows_on_the_member_pages(admin_client, role_name):
    role = Role.objects.create(name=role_name)
    member = UserFactory(role=role)
    listing = admin_client.get("/admin/accounts/user/")
    assert listing.status_code == 200
    assert f"Set role of selected members to {role_name}" in listing.content.decode()
    change = admin_client.get(f"/admin/accounts/user/{member.pk}/change/", follow=True)
    assert change.status_code == 200
    assert role_name in change.content.decode()
    done = admin_client.post(
        "/admin/accounts/user/",
        {"action": f"set_role_{role.pk}", "_selected_action": [member.pk]},
        follow=True,
    )
    assert f"1 member is now {role_name}." in done.content.decode()


# --- One member editor: the admin's member page is the site's editor ----------------

FILTERS = "role__id__exact%3D2%26confirmed__exact%3D1"
BACK = "/admin/accounts/user/?role__id__exact=2&confirmed__exact=1"


def editor_form(member, **overrides):
    data = {
        "username": member.username,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "about_me": member.about_me,
        "role": member.role_id,
        "confirmed": "on" if member.confirmed else "",
        "is_active": "on" if member.is_active else "",
    }
    return {**data, **overrides}


def test_the_admins_member_page_is_the_site_editor_and_leads_back_to_the_list(
    admin_client, member, roles
):
    response = admin_client.get(
        f"/admin/accounts/user/{member.pk}/change/?_changelist_filters={FILTERS}"
    )
    assert response.status_code == 302
    editor = response["Location"]
    assert editor.startswith("/users/alice/edit/?next=")
    html = admin_client.get(editor).content.decode()
    # The way back is the admin's list, as it was filtered.
    back = BACK.replace("&", "&amp;")
    assert f'href="{back}"' in html
    assert f'name="next" value="{back}"' in html
    saved = admin_client.post(
        "/users/alice/edit/", {**editor_form(member, role=roles["Moderator"].pk), "next": BACK}
    )
    assert saved["Location"] == BACK
    member.refresh_from_db()
    assert member.role.name == "Moderator"
    # Recorded as the one editor's change.
    assert member.moderation_actions.get().via == "member_edit"


def test_a_post_to_the_admins_member_page_changes_nothing(admin_client, member, roles):
    response = admin_client.post(
        f"/admin/accounts/user/{member.pk}/change/",
        {**editor_form(member, role=roles["Administrator"].pk, is_active=""), "_save": "Save"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role.name == "User" and member.is_active
    assert not member.moderation_actions.exists()


def test_an_unknown_member_in_the_admin_goes_back_to_the_list_with_a_message(admin_client, roles):
    response = admin_client.get("/admin/accounts/user/987654/change/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "doesn’t exist" in response.content.decode()


def test_the_editor_reaches_everything_the_admin_form_did(admin_client, member):
    html = admin_client.get("/users/alice/edit/").content.decode()
    for field in ("username", "email", "role", "confirmed", "is_active", "reason"):
        assert f'name="{field}"' in html, field
    # The password (the admin's own form), deleting, the record and the dates.
    assert f'href="/admin/accounts/user/{member.pk}/password/"' in html
    assert f'href="/admin/accounts/user/{member.pk}/delete/"' in html
    assert "Moderation record" in html
    assert "Joined" in html and "Last signed in" in html and "Last seen" in html
    # Staff and superuser status are the role's flag, said where the role is chosen.
    assert "ADMIN flag" in html


def test_the_admins_password_form_returns_to_the_editor(admin_client, member):
    path = f"/admin/accounts/user/{member.pk}/password/"
    assert admin_client.get(path).status_code == 200
    new = "a brand new passphrase 7"
    response = admin_client.post(
        path, {"password1": new, "password2": new, "usable_password": "true"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/users/alice/edit/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    member.refresh_from_db()
    assert member.check_password(new)


def _changelists():
    from django.contrib import admin

    return sorted(f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry)


@pytest.mark.parametrize("url", _changelists())
@pytest.mark.parametrize("selected", ["not-a-number", "1.5", "99999999999999999999999"])
def test_a_tampered_selection_on_any_admin_list_is_a_message_not_a_500(
    admin_client, roles, url, selected
):
    """Django's admin filters by the posted ids as they come; a tampered id used to be a 500."""
    member = UserFactory()
    data = {"action": "delete_selected", "_selected_action": [str(member.pk), selected]}
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "Select items from the list" in response.content.decode()
    assert User.objects.filter(pk=member.pk).exists()


@pytest.mark.parametrize("path", ["/admin/password_change/", "/admin/password_change/done/"])
def test_the_admins_change_password_link_leads_to_the_sites_form(admin_client, path):
    """One password form, with the site's re-authentication, limits and messages."""
    response = admin_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/"
    assert admin_client.post(path, {}).status_code == 302
