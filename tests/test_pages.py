"""The landing page, health check and error pages."""

from django.db import OperationalError

from offbrand import views


def test_landing_page_welcomes_visitors(client, roles):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Welcome to Offbrand!</h1>" in html
    assert 'href="/static/css/offbrand.css"' in html
    assert "https://" not in html.split("<body")[0]  # no CDN in the head
    assert "follow, comment, write, moderate, admin" in html  # the Administrator role
    assert 'href="/accounts/register/"' in html


def test_healthz_answers_ok_while_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "queue": "none (mail sent in the request)",
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, db, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", DownConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_unknown_page_is_a_friendly_404(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_pages_answer_a_friendly_503_while_the_database_is_down(client, db, monkeypatch):
    def down(self, request, *args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(views.IndexView, "get", down)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()
    assert response["Retry-After"] == "30"
