"""gunicorn's settings that Offbrand ships (`gunicorn.conf.py`, which gunicorn reads from
the directory it runs in: the Procfile, the systemd unit and harness/servers.py all run
it from the project's root).

gunicorn takes a `SCRIPT_NAME` header from an address it trusts as a proxy (127.0.0.1 by
default) and strips it from the path; a prefix the path does not start with was a 500 of
gunicorn's own, before Offbrand's `ServedAtTheRoot` could put it back (attack report F10).
The site is served at the root: the header is dropped, whoever sends it."""

import pytest

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.servers import Deployment, Gunicorn

    folder = tmp_path_factory.mktemp("gunicorn-config")
    deployment = Deployment(database_url=f"sqlite:///{folder / 'db.sqlite3'}", redis_url="")
    server = Gunicorn(deployment, workers=1)
    try:
        deployment.prepare()
        server.start()
        yield server
    finally:
        server.stop()
        deployment.destroy()


@pytest.mark.parametrize(
    ("path", "script_name", "status"),
    [
        ("/accounts/login/", "/x", 200),  # was gunicorn's 500
        ("/accounts/login/", "/accounts/login/extra", 200),  # was gunicorn's 500
        ("/accounts/login/", "/accounts", 200),
        ("/x/accounts/login/", "/x", 404),  # no prefix is stripped: no such page
    ],
)
def test_a_script_name_header_from_the_proxys_address_is_dropped(site, path, script_name, status):
    from tests.servers import Client

    reply = Client(site.url).request("GET", path, headers={"SCRIPT_NAME": script_name})
    assert reply.status == status, (reply.status, reply.text[:300])
    assert "does not start with SCRIPT_NAME" not in site.log_text()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/healthz"])
def test_a_head_request_is_answered_without_a_body_or_a_log_line(site, path):
    """A HEAD answer has the GET's headers and no body. Django's handler leaves the body
    in; gunicorn dropped it and logged a warning for every HEAD (attack report 3, A5):
    anyone could write the log a line per request."""
    from tests.servers import Client

    client = Client(site.url)
    got = client.request("GET", path)
    before = site.log_text().count("body bytes")
    head = client.request("HEAD", path)
    assert head.status == got.status == 200
    assert head.headers.get("Content-Type") == got.headers.get("Content-Type")
    assert site.log_text().count("body bytes") == before
