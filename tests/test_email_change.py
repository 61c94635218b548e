"""Changing the email address through a link sent to the new address."""

import hashlib

import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import EmailChangeRequest
from tests.conftest import links_in, path_of
from tests.factories import UserFactory

URL = "/accounts/email/change/"


def request_change(client, password, new_email="alice@new.example"):
    return client.post(URL, {"new_email": new_email, "password": password})


def test_link_goes_to_the_new_address_and_nothing_changes_yet(member_client, member, password):
    response = request_change(member_client, password)
    assert response.status_code == 302
    assert mail.outbox[0].to == ["alice@new.example"]
    assert mail.outbox[0].subject == "[Offbrand] Confirm your new email address"
    member.refresh_from_db()
    assert member.email == "alice@example.com"


def test_following_the_link_changes_the_address_and_notifies_the_old_one(
    member_client, member, password
):
    request_change(member_client, password)
    link = path_of(links_in(mail.outbox[0])[0])
    assert "Change my address" in member_client.get(link).content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"  # a GET changes nothing
    response = member_client.post(link, follow=True)
    assert "Your email address has been changed." in response.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@new.example"
    assert member.avatar_hash == hashlib.sha256(b"alice@new.example").hexdigest()
    assert mail.outbox[-1].to == ["alice@example.com"]
    assert "was changed" in mail.outbox[-1].subject


def test_link_is_single_use(member_client, member, password):
    request_change(member_client, password)
    link = path_of(links_in(mail.outbox[0])[0])
    member_client.post(link)
    response = member_client.post(link)
    assert response.status_code == 400
    assert "doesn't work" in response.content.decode()


def test_a_newer_request_voids_the_older_link(member_client, member, password):
    request_change(member_client, password, "first@new.example")
    first = path_of(links_in(mail.outbox[0])[0])
    request_change(member_client, password, "second@new.example")
    assert member_client.post(first).status_code == 400
    member.refresh_from_db()
    assert member.email == "alice@example.com"
    assert EmailChangeRequest.objects.get(user=member).new_email == "second@new.example"


def test_address_taken_in_between_is_refused_at_the_link(member_client, member, password):
    request_change(member_client, password, "wanted@new.example")
    link = path_of(links_in(mail.outbox[0])[0])
    UserFactory(username="quick", email="WANTED@new.example")
    response = member_client.post(link)
    assert response.status_code == 400
    assert "That address is taken" in response.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"


def test_wrong_password_is_refused(member_client, member):
    response = request_change(member_client, "not my password")
    assert (
        "That isn&#x27;t your current password. Check it and try again."
        in response.content.decode()
    )
    assert mail.outbox == []


def test_same_address_is_refused_with_a_message(member_client, member, password):
    same = request_change(member_client, password, "Alice@Example.com")
    assert "That is already your address." in same.content.decode()
    assert mail.outbox == []


def test_a_taken_address_answers_like_a_free_one_and_tells_its_owner(client, roles, password):
    """No oracle: a fresh account learns nothing about who is registered."""
    UserFactory(username="bob", email="bob@example.com")
    prober = UserFactory(username="prober", email="prober@example.com", confirmed=False)
    client.force_login(prober)

    def answer(address):
        reply = client.post(URL, {"new_email": address, "password": password}, follow=True)
        said = [str(message).replace(address, "ADDRESS") for message in reply.context["messages"]]
        return reply.status_code, reply.redirect_chain, said

    taken = answer("BOB@example.com")
    free = answer("free@example.com")
    assert taken == free
    assert free[2] == ["We sent a link to ADDRESS. Your address changes when you follow it."]
    notice, link = mail.outbox
    assert notice.to == ["bob@example.com"]
    assert "tried to move an account to your address" in notice.subject
    assert "/accounts/email/confirm/" not in notice.body
    assert link.to == ["free@example.com"]
    assert EmailChangeRequest.objects.get(user=prober).new_email == "free@example.com"
    # With a wrong password, both get the same error and nothing is sent.
    mail.outbox.clear()
    cache.clear()  # the per-member limit (3 requests in 5 minutes) is not under test
    for address in ("bob@example.com", "free2@example.com"):
        reply = client.post(URL, {"new_email": address, "password": "wrong"})
        assert "That isn&#x27;t your current password." in reply.content.decode()
        assert "another account" not in reply.content.decode()
    assert mail.outbox == []


def test_expired_link_is_refused(member_client, member, password, settings):
    request_change(member_client, password)
    link = path_of(links_in(mail.outbox[0])[0])
    settings.OFFBRAND_CONFIRM_MAX_AGE = -1
    response = member_client.post(link)
    assert "This link has expired" in response.content.decode()


def test_requires_sign_in(client, db):
    assert client.get(URL)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_a_taken_address_costs_the_same_work_before_the_answer(
    client, roles, password, work_before_the_answer
):
    """No timing oracle either: the same writes, commits and hashing for a taken
    address and a free one, and no mail before the answer (mail goes after it)."""
    UserFactory(username="bob", email="bob@example.com")
    prober = UserFactory(username="prober", email="prober@example.com")
    client.force_login(prober)

    def work(address):
        cache.clear()  # the per-member limit is not under test
        client.get(URL)  # last seen and the device row are written now, not in the measure
        response, work = work_before_the_answer(lambda: request_change(client, password, address))
        assert response.status_code == 302
        return work

    taken, free = work("bob@example.com"), work("free@example.com")
    assert taken == free, (taken, free)
    assert taken.mails == 0
    # Once answered, each got its mail: the owner a notice, the free address a link.
    assert [m.to for m in mail.outbox] == [["bob@example.com"], ["free@example.com"]]


def test_mail_to_one_address_from_change_requests_is_capped(roles, password, clock):
    """Members asking to move to one address mail it at most 3 times an hour,
    whether it is taken (notices to its owner) or free (links)."""
    from django.test import Client

    UserFactory(username="bob", email="bob@example.com")
    for n in range(5):
        requester = Client()
        requester.force_login(UserFactory(username=f"asker{n}x", email=f"asker{n}x@example.com"))
        for address in ("bob@example.com", "free@example.com"):
            response = request_change(requester, password, address)
            assert response.status_code == 302
    assert [m.to for m in mail.outbox].count(["bob@example.com"]) == 3
    assert [m.to for m in mail.outbox].count(["free@example.com"]) == 3


def test_the_taken_address_notice_is_true_for_a_squatted_address_too(member_client, password):
    """Its owner may never have made the account on it: say how to take it back."""
    UserFactory(username="squatter", email="dana@example.com")
    request_change(member_client, password, "dana@example.com")
    (notice,) = mail.outbox
    for text in (notice.body, notice.alternatives[0].content):
        assert "already belongs to your account" not in text
        assert "If you did not make an Offbrand account with this address" in text
        assert "reset its password" in text
        assert "/accounts/password/reset/" in text
