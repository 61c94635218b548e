"""Recovery codes: ten, single-use, stored hashed, shown once; a new set voids the old."""

import re
import threading
from urllib.parse import unquote

import pytest
from django.core import mail
from django.db import connection, connections

from accounts.mfa import services
from accounts.mfa.models import RecoveryCode
from tests.factories import UserFactory
from tests.mfa import (
    SECOND_STEP,
    enable_totp,
    last_notice,
    page_text,
    password_step,
    signed_in_as,
)
from tests.servers import CSRF_INPUT, Client

CODES = "/accounts/security/recovery-codes/"
CODE = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


def make_codes(client) -> tuple[list[str], str]:
    response = client.post(CODES)
    assert response.status_code == 200
    html = response.content.decode()
    return CODE.findall(html), html


def test_ten_codes_shown_once_with_a_download_and_stored_hashed(member_client, member):
    enable_totp(member)
    codes, html = make_codes(member_client)
    assert len(codes) == len(set(codes)) == 10
    download = re.search(r'download="[^"]+" href="data:text/plain;charset=utf-8,([^"]+)"', html)
    assert unquote(download.group(1)).split() == codes
    stored = list(RecoveryCode.objects.filter(user=member).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in stored)
    # Shown once: the page afterwards only counts them.
    later = page_text(member_client.get(CODES))
    assert "You have 10 unused recovery codes" in later
    assert not CODE.search(later)


def test_making_new_codes_voids_the_old_set_and_sends_a_notice(member_client, member):
    enable_totp(member)
    old, _ = make_codes(member_client)
    new, _ = make_codes(member_client)
    assert set(old).isdisjoint(new)
    assert services.recovery_code_use(user=member, code=old[0]) is None
    assert services.recovery_code_use(user=member, code=new[0]) == 9
    subjects = [message.subject for message in mail.outbox]
    assert subjects.count("[Offbrand] New recovery codes were made") == 2


def test_no_codes_without_a_factor(member_client, member):
    response = member_client.post(CODES)
    assert response.status_code == 302
    assert not RecoveryCode.objects.filter(user=member).exists()


def test_a_code_signs_in_once_and_says_how_many_are_left(client, member, password):
    enable_totp(member)
    codes = services.recovery_codes_generate(user=member)
    mail.outbox.clear()
    password_step(client, "alice", password)
    response = client.post(SECOND_STEP, {"code": codes[3].upper().replace("-", " ")})
    assert response["Location"] == "/"
    assert signed_in_as(client) == str(member.pk)
    assert "You have 9 recovery codes left" in page_text(client.get("/"))
    notice = last_notice("A recovery code was used")
    assert "You have 9 recovery codes left" in notice.body

    client.post("/accounts/logout/")
    password_step(client, "alice", password)
    response = client.post(SECOND_STEP, {"code": codes[3]})
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_another_members_code_does_not_work(client, member, roles, password):
    enable_totp(member)
    services.recovery_codes_generate(user=member)
    other = UserFactory(username="bob", email="bob@example.com")
    enable_totp(other)
    bobs = services.recovery_codes_generate(user=other)
    password_step(client, "alice", password)
    assert client.post(SECOND_STEP, {"code": bobs[0]}).status_code == 400


def test_removing_the_last_factor_voids_the_codes(member_client, member):
    enable_totp(member)
    codes = services.recovery_codes_generate(user=member)
    member_client.post("/accounts/security/totp/remove/")
    assert services.recovery_code_use(user=member, code=codes[0]) is None


def test_the_last_code_asks_for_new_ones(client, member, password):
    enable_totp(member)
    codes = services.recovery_codes_generate(user=member)
    for code in codes[:-1]:
        assert services.recovery_code_use(user=member, code=code) is not None
    password_step(client, "alice", password)
    client.post(SECOND_STEP, {"code": codes[-1]})
    assert "That was your last recovery code" in page_text(client.get("/"))


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_code_used_twice_at_once_works_exactly_once(roles):
    """Two requests with the same code race: exactly one signs in."""
    member = UserFactory(username="racer", email="racer@example.com")
    enable_totp(member)
    code = services.recovery_codes_generate(user=member)[0]
    threads = 8
    barrier = threading.Barrier(threads, timeout=30)
    results = [None] * threads

    def use(index):
        try:
            barrier.wait()
            results[index] = services.recovery_code_use(user=member, code=code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=use, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results, key=lambda r: r is None) == [9] + [None] * (threads - 1)
    assert RecoveryCode.objects.filter(user=member, used_at__isnull=False).count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_code_sent_by_two_browsers_at_once_signs_in_exactly_one(roles, live_server, password):
    """Real overlapping requests: browsers past the password step post one code together."""
    member = UserFactory(username="racer", email="racer@example.com")
    enable_totp(member)
    code = services.recovery_codes_generate(user=member)[0]
    browsers = 4  # the losers' failures stay within the account's budget of 5
    clients, tokens = [], []
    for _ in range(browsers):
        browser = Client(live_server.url)
        assert browser.sign_in("racer", password).headers["Location"] == SECOND_STEP
        tokens.append(CSRF_INPUT.search(browser.get(SECOND_STEP).text).group(1))
        clients.append(browser)
    barrier = threading.Barrier(browsers, timeout=30)
    replies = [None] * browsers

    def post(index):
        try:
            barrier.wait()
            replies[index] = clients[index].post(
                SECOND_STEP, {"csrfmiddlewaretoken": tokens[index], "code": code}
            )
        finally:
            connections.close_all()

    workers = [threading.Thread(target=post, args=(i,)) for i in range(browsers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [302] + [400] * (browsers - 1)
    assert services.recovery_codes_left(member) == 9
