"""Public profiles, editing one's own, avatars and identicons."""

import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.conftest import image_bytes
from tests.factories import UserFactory

EDIT = "/accounts/profile/"


def test_profile_shows_the_public_facts(client, member):
    member.about_me = "Hi!\nI like <b>bold</b> & such."
    member.last_seen = timezone.now() - timezone.timedelta(minutes=3)
    member.first_name = "Alice"
    member.save()
    response = client.get("/users/alice/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>alice" in html
    assert "Alice" in html and "User" in html
    assert "Hi!<br>I like &lt;b&gt;bold&lt;/b&gt; &amp; such." in html
    assert "3\xa0minutes ago" in html
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">3\xa0minutes ago</time>', html)
    assert member.email not in html


def test_email_shows_only_to_the_owner_and_administrators(client, member, moderator, administrator):
    for viewer, sees in [(member, True), (moderator, False), (administrator, True)]:
        client.force_login(viewer)
        assert (member.email in client.get("/users/alice/").content.decode()) is sees


def test_unknown_member_is_a_404_page(client, db):
    response = client.get("/users/nobody/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_profile_lookup_ignores_case(client, member):
    assert client.get("/users/ALICE/").status_code == 200


def test_unconfirmed_member_can_see_their_own_profile_only(client, unconfirmed, member):
    client.force_login(unconfirmed)
    assert client.get(f"/users/{unconfirmed.username}/").status_code == 200
    assert client.get("/users/alice/")["Location"] == "/accounts/unconfirmed/"


def edit(client, **data):
    return client.post(EDIT, {"first_name": "", "last_name": "", "about_me": "", **data})


def test_edit_changes_name_and_about_me_and_stays_in_settings(member_client, member):
    response = edit(member_client, first_name="Al", about_me="New bio")
    assert response["Location"] == EDIT  # back where the member was, with a message
    assert "Your profile has been updated." in member_client.get(EDIT).content.decode()
    member.refresh_from_db()
    assert (member.first_name, member.about_me) == ("Al", "New bio")


def test_about_me_past_the_limit_gets_a_clear_message(member_client, member):
    response = edit(member_client, about_me="x" * 2001)
    assert response.status_code == 200
    assert (
        "About me can be at most 2000 characters long (this one has 2001)."
        in response.content.decode()
    )


def test_edit_ignores_every_other_posted_field(member_client, member, roles):
    edit(
        member_client,
        about_me="ok",
        role=roles["Administrator"].pk,
        confirmed="off",
        is_staff="on",
        is_superuser="on",
        email="hijack@example.com",
        username="root",
        is_active="off",
    )
    member.refresh_from_db()
    assert member.role.name == "User"
    assert member.confirmed and member.is_active
    assert not member.is_staff and not member.is_superuser
    assert (member.email, member.username) == ("alice@example.com", "alice")


def upload(data=None, name="me.png"):
    return SimpleUploadedFile(name, data or image_bytes(), content_type="image/png")


def test_avatar_upload_is_stored_square_under_a_generated_name(member_client, member, media_root):
    edit(member_client, avatar_upload=upload(name="../../etc/passwd.png"))
    member.refresh_from_db()
    assert member.avatar.name.startswith(f"avatars/{member.pk}-")
    assert "passwd" not in member.avatar.name
    with Image.open(member.avatar.path) as large, Image.open(member.avatar_small.path) as small:
        assert large.size == (256, 256) and small.size == (64, 64)
    html = member_client.get("/users/alice/").content.decode()
    assert member.avatar.url in html


def test_replacing_the_avatar_removes_the_old_files(
    member_client, member, django_capture_on_commit_callbacks, clock
):
    clock.at(0)
    edit(member_client, avatar_upload=upload())
    member.refresh_from_db()
    old = [member.avatar.path, member.avatar_small.path]
    clock.at(60)  # a picture per few seconds (`avatar_upload_user`)
    with django_capture_on_commit_callbacks(execute=True):
        edit(member_client, avatar_upload=upload(image_bytes(colour=(0, 0, 255))))
    member.refresh_from_db()
    assert member.avatar.path not in old
    assert not any(os.path.exists(path) for path in old)


def test_removing_the_avatar_falls_back_to_the_identicon(
    member_client, member, django_capture_on_commit_callbacks
):
    edit(member_client, avatar_upload=upload())
    member.refresh_from_db()
    path = member.avatar.path
    with django_capture_on_commit_callbacks(execute=True):
        edit(member_client, remove_avatar="on")
    member.refresh_from_db()
    assert not member.avatar
    assert not os.path.exists(path)
    assert "/avatars/identicon/" in member_client.get("/users/alice/").content.decode()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text", "notes.png", "Upload a PNG, JPEG, GIF or WebP image"),
        (image_bytes()[:60], "cut.png", "not a valid image"),
        (image_bytes(fmt="BMP"), "old.bmp", "Upload a PNG, JPEG, GIF or WebP image."),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "x.svg",
            "Upload a PNG, JPEG, GIF or WebP image",
        ),
    ],
)
def test_bad_uploads_get_a_form_error_and_keep_the_old_avatar(
    member_client, member, data, name, message
):
    response = edit(member_client, about_me="kept?", avatar_upload=upload(data, name))
    assert response.status_code == 200
    assert message in response.content.decode()
    member.refresh_from_db()
    assert not member.avatar and member.about_me == ""


def test_oversized_upload_is_refused(member_client, member, settings):
    settings.OFFBRAND_AVATAR_MAX_BYTES = 1000
    response = edit(member_client, avatar_upload=upload(image_bytes(size=(800, 800))))
    assert "larger than" in response.content.decode()


def test_identicon_is_local_deterministic_and_long_cached(client, member):
    html = client.get("/users/alice/").content.decode()
    [url] = set(re.findall(r'src="(/avatars/identicon/[^"]+-256\.png)"', html))
    first, second = client.get(url), client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content == second.content
    assert "max-age=31536000" in first["Cache-Control"]
    assert "immutable" in first["Cache-Control"]
    assert member.avatar_hash not in html  # no email hash in public HTML
    other = UserFactory(username="bob")
    assert other.avatar_url() != member.avatar_url()


def test_identicon_refuses_unknown_sizes(client, db):
    assert client.get("/avatars/identicon/" + "a" * 24 + "-999.png").status_code == 404


def test_gravatar_mode_uses_the_gravatar_url(client, member, settings):
    settings.OFFBRAND_AVATARS = "gravatar"
    html = client.get("/users/alice/").content.decode()
    assert member.gravatar(size=256).replace("&", "&amp;") in html


def test_navigation_links_follow_permissions(client, member, moderator, administrator):
    for user, moderate, admin in [
        (member, False, False),
        (moderator, True, False),
        (administrator, True, True),
    ]:
        client.force_login(user)
        html = client.get("/").content.decode()
        assert ('href="/moderate/users/"' in html) is moderate
        assert ('href="/admin/"' in html) is admin


def test_nul_bytes_in_urls_and_searches_are_harmless(client, moderator):
    assert client.get("/users/a%00b/").status_code == 404
    client.force_login(moderator)
    assert client.get("/moderate/users/", {"q": "a\x00"}).status_code == 200
    assert client.get("/moderate/users/a%00/suspend/").status_code == 404


def test_profile_edits_are_rate_limited_per_member(member_client, clock):
    from accounts.ratelimits import LIMITS

    limit = LIMITS["profile_edit_user"].count
    statuses = [
        member_client.post("/accounts/profile/", {"first_name": f"A{n}"}).status_code
        for n in range(limit + 1)
    ]
    assert 429 not in statuses[:limit]
    assert statuses[-1] == 429


def test_an_upload_past_the_edit_limit_is_refused_before_its_body_is_read(
    member_client, monkeypatch, clock
):
    """Two upload loops from one member must not keep the workers busy reading files."""
    from django.core.files import uploadhandler
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.ratelimits import LIMITS

    for n in range(LIMITS["profile_edit_user"].count):
        member_client.post("/accounts/profile/", {"first_name": f"A{n}"})
    read = []
    monkeypatch.setattr(
        uploadhandler.MemoryFileUploadHandler,
        "receive_data_chunk",
        lambda self, raw, start: read.append(len(raw)),
    )
    picture = SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")
    response = member_client.post("/accounts/profile/", {"avatar_upload": picture})
    assert response.status_code == 429
    assert read == []


def test_an_upload_refused_unread_gets_a_small_page_of_its_own(member_client, clock):
    """A loop of refused uploads costs the workers little: the refusal is a short page
    (no site navigation to build), which still says when to come back and links back."""
    from accounts.ratelimits import LIMITS

    for n in range(LIMITS["profile_edit_user"].count):
        member_client.post(EDIT, {"first_name": f"A{n}"})
    response = member_client.post(EDIT, {"avatar_upload": upload()})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many attempts" in html and "Try again in 1 minute" in html
    assert f'href="{EDIT}"' in html
    assert "base.html" not in [template.name for template in response.templates]


def photo_sized(seed: int = 0) -> bytes:
    """A picture that compresses like a photo: a few hundred KB, not a flat colour."""
    from io import BytesIO

    out = BytesIO()
    Image.effect_noise((400, 300), 60 + seed).convert("RGB").save(out, "PNG")
    return out.getvalue()


def test_pictures_are_spread_out_so_a_loop_cannot_decode_a_burst(
    member_client, member, clock, monkeypatch, media_root
):
    """The minute's allowance of edits is not spent as ten decodes at once: a second
    picture within a few seconds is refused before its body is read; edits without a
    picture are not held back, and the next picture is taken once the window ends."""
    from django.core.files import uploadhandler

    from accounts.ratelimits import LIMITS

    spacing = LIMITS["avatar_upload_user"].period
    clock.at(0)
    assert member_client.post(EDIT, {"avatar_upload": upload(photo_sized())}).status_code == 302

    clock.at(1)
    read = []
    receive = uploadhandler.MemoryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        uploadhandler.MemoryFileUploadHandler,
        "receive_data_chunk",
        lambda self, raw, start: read.append(len(raw)),
    )
    refused = member_client.post(EDIT, {"avatar_upload": upload(photo_sized(1))})
    assert refused.status_code == 429 and read == []
    assert int(refused["Retry-After"]) == spacing - 1
    assert f"Try again in {spacing - 1} seconds" in refused.content.decode()
    monkeypatch.setattr(uploadhandler.MemoryFileUploadHandler, "receive_data_chunk", receive)

    assert member_client.post(EDIT, {"first_name": "Alice"}).status_code == 302
    clock.at(spacing)
    assert member_client.post(EDIT, {"avatar_upload": upload(photo_sized(2))}).status_code == 302


def test_a_second_upload_while_one_is_being_processed_is_refused_before_its_body_is_read(
    member_client, member, monkeypatch, media_root, clock
):
    """Two upload loops from one member keep at most one worker busy with their pictures:
    while one upload is decoding, the other is refused at once, its file never read."""
    from django.core.files import uploadhandler

    from accounts import avatars

    render = avatars.render_avatar
    during = []

    def render_while_another_arrives(picture, **kwargs):
        if during:  # the second upload got this far: it was not refused
            return render(picture, **kwargs)
        read = []
        receive = uploadhandler.MemoryFileUploadHandler.receive_data_chunk
        monkeypatch.setattr(
            uploadhandler.MemoryFileUploadHandler,
            "receive_data_chunk",
            lambda self, raw, start: read.append(len(raw)),
        )
        during.append(None)
        second = member_client.post(EDIT, {"avatar_upload": upload(name="second.png")})
        during.pop()
        monkeypatch.setattr(uploadhandler.MemoryFileUploadHandler, "receive_data_chunk", receive)
        during.append((second.status_code, read, second.content.decode()))
        return render(picture, **kwargs)

    monkeypatch.setattr("accounts.forms.render_avatar", render_while_another_arrives)
    clock.at(0)
    first = member_client.post(EDIT, {"avatar_upload": upload()})

    assert first.status_code == 302
    [(status, read, html)] = during
    assert status == 429 and read == []
    assert "still being saved" in html
    member.refresh_from_db()
    assert member.avatar  # the first upload was stored
    # Once it is done, and the picture's window over, the member can upload again.
    monkeypatch.setattr("accounts.forms.render_avatar", render)
    clock.at(60)
    assert member_client.post(EDIT, {"avatar_upload": upload()}).status_code == 302


def test_the_owner_is_told_only_they_see_their_address(client, member, administrator):
    client.force_login(member)
    assert 'alice@example.com <span class="muted">(only you can see this)</span>' in (
        client.get("/users/alice/").content.decode()
    )
    client.force_login(administrator)
    assert "(only administrators can see this)" in client.get("/users/alice/").content.decode()


def test_remove_is_offered_only_once_a_photo_was_uploaded(member_client, member):
    assert "Remove my photo" not in member_client.get(EDIT).content.decode()
    edit(member_client, avatar_upload=upload())
    html = member_client.get(EDIT).content.decode()
    assert "Remove my photo" in html
    assert "data-avatar-preview=" in html  # the preview beside the upload button


def test_an_empty_profile_invites_a_photo_and_a_bio(client, member):
    client.force_login(member)
    html = client.get("/users/alice/").content.decode()
    assert "Add a photo and a few words about yourself" in html
    client.force_login(UserFactory(username="visitor"))
    html = client.get("/users/alice/").content.decode()
    assert "Add a photo" not in html
    assert "alice hasn't written anything about themselves yet." in html
