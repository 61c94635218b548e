"""Registration: validation, the confirmation email, no enumeration."""

import pytest
from django.core import mail
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.utils.html import escape

from accounts.models import User
from tests.conftest import links_in
from tests.factories import UserFactory

URL = "/accounts/register/"


def form(**overrides):
    data = {
        "email": "carol@example.com",
        "username": "carol",
        "password1": "a sturdy passphrase 9",
    }
    return {**data, **overrides}


def test_page_shows_three_fields_and_one_password(client, db):
    html = client.get(URL).content.decode()
    for name in ["email", "username", "password1"]:
        assert f'name="{name}"' in html
    assert html.count('type="password"') == 1  # no confirmation to type twice


def test_success_signs_in_and_sends_a_confirmation_link(client, roles):
    response = client.post(URL, form(), follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/register/done/"
    assert "Check your inbox" in response.content.decode()
    user = User.objects.get(username="carol")
    assert not user.confirmed
    assert user.role.name == "User"
    assert response.context["user"] == user
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.com"]
    assert message.subject == "[Offbrand] Confirm your email address"
    assert message.from_email == "Offbrand Admin <admin@offbrand.co>"
    assert "/accounts/confirm/" in links_in(message)[0]
    assert message.alternatives[0].mimetype == "text/html"


def test_email_domain_is_normalised(client, roles):
    client.post(URL, form(email="carol@EXAMPLE.com"))
    assert User.objects.get(username="carol").email == "carol@example.com"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        ({"username": "bad name!"}, "username", "A username can only use letters, digits"),
        ({"password1": "short"}, "password1", "too short"),
        ({"password1": "password123"}, "password1", "too common"),
        ({"password1": "12345678901"}, "password1", "entirely numeric"),
        ({"password1": "carol@example.com"}, "password1", "too similar to the email address"),
        ({"email": ""}, "email", "Enter your email address."),
        ({"username": ""}, "username", "Enter your username."),
        ({"password1": ""}, "password1", "Enter your password."),
        ({"username": "c" * 151}, "username", "Username can be at most 150 characters long"),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(
    client, roles, overrides, field, message
):
    response = client.post(URL, form(**overrides))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert escape(message) in response.content.decode()
    assert not User.objects.filter(username="carol").exists()
    assert mail.outbox == []


def test_duplicate_username_in_any_case_is_refused(client, roles):
    UserFactory(username="Carol")
    response = client.post(URL, form(username="cAROL"))
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_duplicate_email_looks_like_success_and_warns_the_owner(client, roles):
    owner = UserFactory(username="owner", email="Carol@Example.com")
    response = client.post(URL, form(email="carol@example.COM"), follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/register/done/"
    assert "Check your inbox" in response.content.decode()
    assert not response.context["user"].is_authenticated
    assert User.objects.count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert "Someone tried to sign up" in mail.outbox[0].subject


def test_offbrand_admin_address_grants_nothing_until_confirmed(client, roles, settings):
    settings.OFFBRAND_ADMIN = "carol@example.com"
    client.post(URL, form())
    user = User.objects.get(username="carol")
    assert not user.is_administrator()
    confirm_path = links_in(mail.outbox[0])[0].split("testserver")[1]
    client.post(confirm_path)
    user.refresh_from_db()
    assert user.confirmed
    assert user.is_administrator()


def test_mass_assignment_is_ignored(client, roles):
    client.post(URL, form(is_staff="on", is_superuser="on", confirmed="on", role="3"))
    user = User.objects.get(username="carol")
    assert not user.is_staff and not user.is_superuser and not user.confirmed
    assert user.role.name == "User"


def register_beside(client, existing: str, username: str) -> str:
    """Register `username` while a member holds `existing`: the page's HTML."""
    UserFactory(username=existing)
    return client.post(URL, form(username=username)).content.decode()


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("alice", "\u0430lice"),  # Cyrillic а
        ("alice", "aIice"),  # capital i for l
        ("paypal", "p\u0430yp\u0430l"),
        ("bob0", "bobO"),
        ("Emile", "\u0395mile"),  # Greek capital epsilon
    ],
)
def test_a_username_that_looks_like_an_existing_one_is_refused(client, roles, existing, lookalike):
    assert "looks too much like an existing one" in register_beside(client, existing, lookalike)
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("fiona", "f1ona"),  # digit one for i
        ("bill", "b1ll"),  # digit one for l
        ("bill", "biil"),  # i for l
        ("bob", "b0b"),  # zero for o
        ("sam", "5am"),  # five for s
        ("zoe", "2oe"),  # two for z
        ("bart", "8art"),  # eight for B
        ("boss", "b_oss"),  # separators: . _ - + are dropped
        ("boss", "boss."),
        ("boss", "b.o-s+s"),
        ("b_oss", "boss"),  # whichever came first
        ("modern", "rnodern"),  # r n for m
        ("wendy", "vvendy"),  # v v for w
        ("carl", "c\u0430r_1"),  # Cyrillic a, a separator and a digit together
    ],
)
def test_digits_and_separators_do_not_make_a_new_name(client, roles, existing, lookalike):
    """Found after issue 11: `f1ona` beside `fiona` and `b_oss` beside `boss` were accepted."""
    assert "looks too much like an existing one" in register_beside(client, existing, lookalike)
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "distinct"),
    [
        ("anna", "anne"),
        ("bob", "rob"),
        ("sam", "sami"),
        ("user1", "user2"),
        ("user6", "user8"),  # digits that fold to no letter stay apart
        ("mila", "milo"),
        ("dan", "dean"),
    ],
)
def test_names_that_differ_to_the_eye_are_both_accepted(client, roles, existing, distinct):
    UserFactory(username=existing)
    response = client.post(URL, form(username=distinct))
    assert response.status_code == 302, response.content.decode()[:500]
    assert User.objects.filter(username=distinct).exists()


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("boss", "ʙoss"),  # U+0299 LATIN LETTER SMALL CAPITAL B
        ("boss", "ƅoss"),  # U+0185 LATIN SMALL LETTER TONE SIX
        ("boss", "b᧐ss"),  # U+19D0 NEW TAI LUE DIGIT ZERO for o
        ("admin", "ᴀdmin"),  # U+1D00 LATIN LETTER SMALL CAPITAL A
        ("v1", "v١"),  # U+0661 ARABIC-INDIC DIGIT ONE
        ("zo188", "zo١٨٨"),
        ("bada188", "bᴀda188"),
        ("ivan", "ɪvan"),  # U+026A LATIN LETTER SMALL CAPITAL I
    ],
)
def test_other_scripts_digits_and_small_capitals_do_not_make_a_new_name(
    client, roles, existing, lookalike
):
    """Found attacking the running site (F4): each was accepted beside the name."""
    UserFactory(username=existing)
    response = client.post(URL, form(username=lookalike))
    html = response.content.decode()
    assert "looks too much like an existing one" in html or "everyday alphabet" in html
    assert User.objects.count() == 1


@pytest.mark.parametrize("unusual", ["ƅoss", "ᴀdmin", "sᴀm", "tᴜlip"])
def test_phonetic_and_obsolete_letters_are_refused_in_any_name(client, roles, unusual):
    """Not for everyday writing, so a new name may not use them, beside a name or not."""
    response = client.post(URL, form(username=unusual))
    assert "Use letters of an everyday alphabet" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("existing", "distinct"),
    [
        ("shahla", "Şəhla"),  # ə: Azerbaijani
        ("kofi", "Kɔfi"),  # ɔ: Akan
        ("ngozi", "Ngozí1"),
        ("user6", "user٣"),  # another script's 3 is a 3, not a 6
        ("anna", "anne"),
    ],
)
def test_letters_of_living_alphabets_stay_accepted(client, roles, existing, distinct):
    UserFactory(username=existing)
    response = client.post(URL, form(username=distinct))
    assert response.status_code == 302, response.content.decode()[:500]
    assert User.objects.filter(username=distinct).exists()


def test_the_site_member_edit_refuses_a_digit_look_alike(client, administrator, roles):
    UserFactory(username="fiona")
    target = UserFactory(username="zed")
    client.force_login(administrator)
    response = client.post(
        f"/users/{target.username}/edit/",
        {
            "username": "f1ona",
            "email": target.email,
            "role": roles["User"].pk,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert "looks too much like an existing one" in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


@pytest.mark.parametrize(
    ("existing", "username", "refusal"),
    [
        ("boss2", "boss_2", "looks too much like an existing one"),  # a separator
        (None, "t\u043em", "Use letters of one alphabet"),  # Cyrillic о among Latin
        ("bob", "\u13f4\u13be\u13f4", "Use letters of an everyday alphabet"),  # Cherokee (A4)
    ],
)
def test_the_django_admin_add_user_applies_the_same_rules(
    admin_client, roles, existing, username, refusal
):
    """The admin's "add user" (its change page is the site's editor, tested above)."""
    if existing:
        UserFactory(username=existing)
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": username,
            "email": "second@example.com",
            "password1": "a sturdy passphrase 9",
            "password2": "a sturdy passphrase 9",
            "usable_password": "true",
        },
    )
    assert refusal in response.content.decode()
    assert not User.objects.filter(email="second@example.com").exists()


def test_existing_look_alikes_keep_their_names(roles):
    """The rule refuses new names; members who already have one are not renamed."""
    first = UserFactory(username="fiona")
    User.objects.bulk_create([User(username="f1ona", email="f1ona@example.com")])
    second = User.objects.get(username="f1ona")  # an import, made before the rule
    second.first_name = "Fi"
    second.save(update_fields=["first_name"])  # an unrelated edit still saves
    assert set(User.objects.values_list("username", flat=True)) == {"fiona", "f1ona"}
    assert first.username_skeleton == User.objects.get(pk=second.pk).username_skeleton


def test_case_insensitive_uniqueness_is_unicode_aware_on_every_database(client, roles):
    """SQLite's lower() is ASCII-only: 'Émile' and 'émile' must still be one name."""
    UserFactory(username="Émile")
    response = client.post(URL, form(username="émile"))
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1
    # The database itself refuses it too, whatever path writes.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="ÉMILE")
    assert client.get("/users/émile/").status_code == 200


def test_a_username_may_not_be_another_members_email(client, roles):
    UserFactory(username="dora", email="dora@example.com")
    response = client.post(URL, form(username="dora@example.com", email="eve@example.com"))
    assert "contain @: you can sign in with your email address" in response.content.decode()
    # An unregistered address is refused alike: the answer tells nobody who is registered.
    response = client.post(URL, form(username="ghost@example.com", email="eve@example.com"))
    assert "contain @: you can sign in with your email address" in response.content.decode()
    # And so is one's own (attack report F5: it could become someone else's).
    response = client.post(URL, form(username="eve@example.com", email="eve@example.com"))
    assert "contain @: you can sign in with your email address" in response.content.decode()
    assert not User.objects.filter(email="eve@example.com").exists()


def test_the_admin_member_edit_refuses_look_alikes_too(client, administrator, roles):
    UserFactory(username="alice")
    target = UserFactory(username="zed")
    client.force_login(administrator)
    response = client.post(
        f"/users/{target.username}/edit/",
        {
            "username": "\u0430lice",
            "email": target.email,
            "role": roles["User"].pk,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert "looks too much like an existing one" in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


def test_a_taken_address_costs_the_same_work_and_no_mail_before_the_answer(rf, roles, monkeypatch):
    """Same hashing, no mail inside the request: the answer's timing tells nothing."""
    from django.contrib.auth import base_user as hashers
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.middleware import AfterResponseMiddleware
    from accounts.views import RegisterView

    UserFactory(username="owner", email="taken@example.com")
    hashes = []
    original = hashers.make_password
    monkeypatch.setattr(
        hashers, "make_password", lambda *a, **k: hashes.append(1) or original(*a, **k)
    )

    def register(email, username):
        request = rf.post(URL, form(email=email, username=username))
        request._dont_enforce_csrf_checks = True
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        from accounts.models import AnonymousVisitor

        request.user = AnonymousVisitor()
        hashes.clear()
        mail.outbox.clear()
        response = AfterResponseMiddleware(RegisterView.as_view())(request)
        in_request = (len(hashes), len(mail.outbox))
        # The server sends the body, then closes the response. As Django's test
        # client does, keep request_finished from closing the test's database
        # connection (PostgreSQL: the test transaction would be lost).
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        return response, in_request

    taken, taken_work = register("taken@example.com", "someone")
    assert [m.to for m in mail.outbox] == [["taken@example.com"]]  # once answered
    new, new_work = register("fresh@example.com", "newcomer")
    assert [m.to for m in mail.outbox] == [["fresh@example.com"]]
    assert taken.status_code == new.status_code == 302
    assert taken_work == new_work == (1, 0)  # one hash each, no mail before the answer


@pytest.mark.parametrize("lookalike", ["F\u0130ONA", "f\u00edona"])
def test_marks_and_dotted_capitals_do_not_make_a_new_name(client, roles, lookalike):
    """Found attacking the running site: Turkish `İ` made `FİONA` a new name beside fiona."""
    UserFactory(username="fiona")
    response = client.post(URL, form(username=lookalike))
    assert "looks too much like an existing one" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_both_registration_answers_commit_as_often_before_the_answer(
    client, roles, work_before_the_answer
):
    """A commit is the dearest step (an fsync on SQLite): a taken address and a new
    one cost the same number of them, and one password hash, before the answer.

    Counted through the whole middleware stack (session, last seen, devices);
    work queued after the answer (the mail) is left out, as the visitor does not
    wait for it.
    """
    UserFactory(username="owner", email="taken@example.com")

    def register(email, username):
        client.cookies.clear()
        client.get(URL)
        response, work = work_before_the_answer(
            lambda: client.post(URL, form(email=email, username=username))
        )
        assert response.status_code == 302
        return work

    taken = register("taken@example.com", "someone")
    new = register("fresh@example.com", "newcomer")
    assert User.objects.filter(email="fresh@example.com").exists()
    assert (taken.hashes, taken.mails) == (new.hashes, new.mails) == (1, 0)
    commits_taken, commits_new = taken.commits, new.commits
    # Beyond the taken path's work, a new member costs their row and their
    # device row: two INSERTs in the same transaction, nothing else. On
    # PostgreSQL the devices row's statement also writes the new session's row,
    # which the taken path writes on its own: one statement more in all.
    extra = (1, 1) if connection.vendor == "postgresql" else (2, 2)
    assert (new.statements - taken.statements, new.writes - taken.writes) == extra, (taken, new)
    member = User.objects.get(email="fresh@example.com")
    assert member.last_login is not None and member.last_seen == member.last_login
    assert commits_taken == commits_new == 2, (taken, new)


@pytest.mark.parametrize(
    ("migration", "username", "stored", "recomputed"),
    [
        ("0014_username_skeleton_folds_digits_and_separators", "b_oss", "b_oss", "boss"),
        (
            "0016_username_skeleton_cyrillic_small_capitals",
            "\u0432\u043e\u0432",
            "\u0432o\u0432",
            "bob",
        ),
        ("0017_username_skeleton_hooked_letters", "\u0253ob", "\u0253ob", "bob"),
    ],
)
def test_a_skeleton_migration_recomputes_stored_skeletons(
    roles, migration, username, stored, recomputed
):
    """Rows written under the old rule (`stored`, as the migration before left it)
    get the new skeleton; their names stay."""
    from importlib import import_module

    from django.apps import apps

    module = import_module(f"accounts.migrations.{migration}")
    old = UserFactory(username=username)
    User.objects.filter(pk=old.pk).update(username_skeleton=stored)
    [recompute] = module.Migration.operations
    recompute.code(apps, None)
    old.refresh_from_db()
    assert (old.username, old.username_skeleton) == (username, recomputed)


def test_the_taken_address_notice_is_true_for_a_squatted_address_too(client, roles):
    """The address may have been registered by someone else: the notice must not
    call the account the reader's, and must say how to take it back."""
    UserFactory(username="squatter", email="dana@example.com")
    client.post(URL, form(email="dana@example.com", username="dana"))
    (notice,) = mail.outbox
    for text in (notice.body, notice.alternatives[0].content):
        assert "already has one" not in text  # was: "which already has one (yours)"
        assert "If you did not make that account" in text
        assert "reset its password" in text
        assert "/accounts/password/reset/" in text
        assert "/accounts/login/" in text


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("root", "roo\u0442"),  # Cyrillic т, drawn as the small capital ᴛ
        ("bob", "\u0432ob"),  # Cyrillic в, drawn as ʙ
        ("bob", "bo\u0432"),
        ("bob", "\u0432o\u0432"),
        ("bob", "\u0432o\u0432\u0432"),
        ("mallory", "\u043callory"),  # Cyrillic м, drawn as ᴍ
        ("alice", "alic\u1971"),  # Tai Le ᥱ
        ("bob", "\u0253ob"),  # ɓ, b with a hook
        ("alice", "ali\u0188e"),  # ƈ, c with a hook
        ("alice", "alic\u0258"),  # ɘ, reversed e
    ],
)
def test_cyrillic_small_capitals_and_other_scripts_letters_do_not_make_a_new_name(
    client, roles, existing, lookalike
):
    """Attack report F3: each was accepted beside the name (only the upper case was refused)."""
    UserFactory(username=existing)
    response = client.post(URL, form(username=lookalike))
    html = response.content.decode()
    assert "looks too much like an existing one" in html or "Use letters of one alphabet" in html
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("bob", "\u0432\u043e\u0432"),  # all Cyrillic: в о в
        ("root", "\u0433\u043e\u043e\u0442"),  # all Cyrillic: г о о т
        ("mama", "\u043c\u0430\u043c\u0430"),  # all Cyrillic: м а м а
        ("hek", "\u043d\u0435\u043a"),  # all Cyrillic: н е к
        ("kit", "\u03ba\u03b9\u03c4"),  # all Greek: κ ι τ
    ],
)
def test_a_whole_script_name_drawn_like_an_existing_one_is_refused(
    client, roles, existing, lookalike
):
    """One alphabet throughout, but every letter drawn as the Latin one (small capitals)."""
    assert "looks too much like an existing one" in register_beside(client, existing, lookalike)
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "mixed",
    [
        "t\u043em",  # Latin with a Cyrillic о
        "alic\u1971",  # Latin with Tai Le
        "\u03a9mega",  # Greek Ω with Latin
        "\u043d\u0430\u0442\u0430sha",  # Cyrillic with Latin
        "\u043d\u0430\u0442\u0430\u03c3\u03b1",  # Cyrillic with Greek
        "yuki\u3086\u304d\u30e6\u30ad\u96ea",  # Latin, Hiragana, Katakana and Han
        "tanaka\u5c71\u7530",  # Latin and Han
        "kim\uae40\ubbfc\uc218",  # Latin and Hangul
        "lin\u6797\u3105",  # Latin, Han and Bopomofo
    ],
)
def test_a_new_name_may_not_mix_alphabets(client, roles, mixed):
    """Unicode TR39's mixed-script restriction, beside an existing name or not."""
    response = client.post(URL, form(username=mixed))
    assert "Use letters of one alphabet" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "\u041d\u0430\u0442\u0430\u0448\u0430",  # Наташа
        "\u041d\u0430\u0442\u0430\u0448\u0430_1990",  # digits and separators go with any
        "\u0391\u03bb\u03ad\u03be\u03b1\u03bd\u03b4\u03c1\u03bf\u03c2",  # Αλέξανδρος
        "\u0645\u062d\u0645\u062f",  # محمد
        "\u5c71\u7530\u305f\u308d\u3046",  # 山田たろう: Han and Hiragana
        "\u3086\u304d\u30e6\u30ad\u96ea",  # Hiragana, Katakana and Han
        "\u6797\u3105",  # Han and Bopomofo
        "\u674e\ubbfc\uc218",  # Han and Hangul
        "user\u0663",  # another script's digit
    ],
)
def test_whole_script_and_east_asian_names_stay_accepted(client, roles, name):
    """TR39 'Highly Restrictive' without Latin: one script, or Han with the
    kana, Bopomofo or Hangul; digits and separators belong to every script.
    (Latin with any of these: tests/test_username_invisible.py, refused.)"""
    response = client.post(URL, form(username=name))
    assert response.status_code == 302, response.content.decode()[:500]
    assert User.objects.filter(username=name).exists()


def test_the_site_member_edit_refuses_a_mixed_script_rename(client, administrator, roles):
    UserFactory(username="root")
    target = UserFactory(username="zed")
    client.force_login(administrator)
    edit = {"email": target.email, "role": roles["User"].pk, "confirmed": "on", "is_active": "on"}
    response = client.post(f"/users/{target.username}/edit/", {**edit, "username": "roo\u0442"})
    assert "looks too much like an existing one" in response.content.decode()
    response = client.post(f"/users/{target.username}/edit/", {**edit, "username": "z\u0435d"})
    assert "Use letters of one alphabet" in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("bob", "\u0253ob"),  # ɓ: b with a hook
        ("dan", "\u0257an"),  # ɗ: d with a hook
        ("lukasz", "\u0142ukasz"),  # ł: l with a stroke
        ("bjorn", "bj\u00f8rn"),  # ø: o with a stroke
        ("hana", "\u0127ana"),  # ħ: h with a stroke
    ],
)
def test_letters_with_a_hook_or_stroke_read_as_their_letter(client, roles, existing, lookalike):
    """Attack report F3 (`ɓob`, `aliƈe`): like an accent, a hook or stroke drawn
    on a letter does not make a new name; Unicode just has no decomposition for it."""
    assert "looks too much like an existing one" in register_beside(client, existing, lookalike)
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("tom", "\u2ca7\u2c9f\u2c99"),  # Coptic ⲧⲟⲙ
        ("kim", "\u2c95\u2c93\u2c99"),  # Coptic ⲕⲓⲙ
        ("anna", "\u2c81\u2c9b\u2c9b\u2c81"),  # Coptic ⲁⲛⲛⲁ
        ("ham", "\u2c8f\u2c81\u2c99"),  # Coptic ⲏⲁⲙ
        ("otto", "\u2c9f\u2ca7\u2ca7\u2c9f"),  # Coptic ⲟⲧⲧⲟ
        ("bob", "\u13f4\u13be\u13f4"),  # Cherokee ᏴᎾᏴ
    ],
)
def test_a_coptic_or_cherokee_name_drawn_like_a_member_is_refused(
    client, roles, existing, lookalike
):
    """Attack report A4 (2026-12-06): each registered beside the member, while
    Cyrillic `том` is refused. Refused by the script rule, not by a list of names."""
    UserFactory(username=existing)
    response = client.post(URL, form(username=lookalike))
    assert "Use letters of an everyday alphabet" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "script"),
    [
        # UAX #31 Table 4, Excluded Scripts
        ("\u2ca7\u2c9f\u2c99", "Coptic"),
        ("\U00010332\U0001033f\U00010344", "Gothic"),  # 𐌲𐌿𐍄
        ("\u16b1\u16a2\u16be", "Runic"),  # ᚱᚢᚾ
        ("\U00010300\U00010301", "Old Italic"),  # 𐌀𐌁
        ("\U00010413\U00010431\U00010428", "Deseret"),  # 𐐓𐐱𐐨
        ("\u2c00\u2c01", "Glagolitic"),  # ⰀⰁ
        ("\u1691\u168c", "Ogham"),  # ᚑᚌ
        # UAX #31 Table 7, Limited Use Scripts
        ("\u13f4\u13be\u13f4", "Cherokee"),
        ("\u2d5c\u2d49", "Tifinagh"),  # ⵜⵉ
        ("\ua559\ua524", "Vai"),  # ꕙꔤ
        ("\U000104cf\U000104d8", "Osage"),  # 𐓏𐓘
        ("\U0001e900\U0001e923", "Adlam"),  # 𞤀𞤣
        ("\u1403\u14c4", "Canadian Aboriginal"),  # ᐃᓄ
        ("user\u19d3", "New Tai Lue"),  # another script's digit: its script counts too
    ],
)
def test_scripts_unicode_does_not_recommend_for_names_are_refused(client, roles, name, script):
    """UTS #39's General Security Profile: only the Recommended scripts of
    UAX #31 Table 5, beside an existing name or not."""
    response = client.post(URL, form(username=name))
    html = response.content.decode()
    assert "Use letters of an everyday alphabet" in html
    assert script in html
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "hans",
        "J\u00fcrgen_M\u00fcnch",  # Jürgen_Münch
        "\u0190si_\u0254k\u0259",  # Ɛsi_ɔkə: IPA letters of living alphabets
        "\u10dc\u10d8\u10dc\u10dd",  # Georgian ნინო
        "\u0531\u0580\u0561\u0574",  # Armenian Արամ
        "\u05d3\u05d5\u05d3",  # Hebrew דוד
        "\u0915\u092e\u0932",  # Devanagari कमल
        "\u0e2a\u0e21\u0e0a\u0e32\u0e22",  # Thai สมชาย
        "\u12a0\u1260\u1260",  # Ethiopic አበበ
        "\u0b95\u0bae\u0bb2",  # Tamil கமல
        "\ud55c\uae00",  # Hangul 한글
        "\u30bf\u30ed\u30a6",  # Katakana タロウ
    ],
)
def test_names_in_recommended_scripts_stay_accepted(client, roles, name):
    response = client.post(URL, form(username=name))
    assert response.status_code == 302, response.content.decode()[:500]
    assert User.objects.filter(username=name).exists()


def test_the_site_member_edit_refuses_a_coptic_rename(client, administrator, roles):
    UserFactory(username="tom")
    target = UserFactory(username="zed")
    client.force_login(administrator)
    edit = {"email": target.email, "role": roles["User"].pk, "confirmed": "on", "is_active": "on"}
    response = client.post(
        f"/users/{target.username}/edit/", {**edit, "username": "\u2ca7\u2c9f\u2c99"}
    )
    assert "Use letters of an everyday alphabet" in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


@pytest.mark.parametrize(
    "username",
    ["dora@example.com.", "dora@example.com..", "DORA@Example.COM.", "ghost@example.com."],
)
def test_a_username_may_not_reach_another_mailbox_by_a_trailing_dot(client, roles, username):
    """Attack report 2026-12-06, minor note: `bob@example.com.` was accepted while
    `bob@example.com` was refused; the domain's trailing dot names the same mailbox."""
    UserFactory(username="dora", email="dora@example.com")
    response = client.post(URL, form(username=username, email="eve@example.com"))
    assert "contain @: you can sign in with your email address" in response.content.decode()
    assert not User.objects.filter(email="eve@example.com").exists()
