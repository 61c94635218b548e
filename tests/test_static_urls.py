"""`{% static %}` URLs are looked up once per storage (`offbrand.storage`): never a stale one."""

import json

import pytest
from django.template import Context, Template
from whitenoise.storage import CompressedManifestStaticFilesStorage

from offbrand.storage import StaticFilesStorage

MANIFEST = {"css/site.css": "css/site.1234.css", "js/site.js": "js/site.abcd.js"}


@pytest.fixture
def static_root(tmp_path, settings):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": MANIFEST, "version": "1.1"}))
    settings.STATIC_ROOT = tmp_path
    settings.STATIC_URL = "/static/"
    settings.DEBUG = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "offbrand.storage.StaticFilesStorage"},
    }
    return tmp_path


def static(name: str) -> str:
    return Template("{% load static %}{% static name %}").render(Context({"name": name}))


def test_each_name_gives_the_manifest_storages_own_url_once_looked_up(static_root, monkeypatch):
    plain = CompressedManifestStaticFilesStorage()
    ours = StaticFilesStorage()
    looked_up = []
    real = StaticFilesStorage.stored_name
    monkeypatch.setattr(
        StaticFilesStorage,
        "stored_name",
        lambda self, name: looked_up.append(name) or real(self, name),
    )
    for name in [*MANIFEST, *MANIFEST, "css/site.css?v=1#top"]:
        assert ours.url(name) == plain.url(name)
    assert len(looked_up) == 3  # once per name, not per use
    assert ours.url("css/site.css", force=True) == plain.url("css/site.css", force=True)


def test_the_template_tag_follows_a_new_static_url_or_manifest(static_root, settings):
    assert static("css/site.css") == "/static/css/site.1234.css"
    settings.STATIC_URL = "https://cdn.example/s/"
    assert static("css/site.css") == "https://cdn.example/s/css/site.1234.css"
    manifest = {"paths": {"css/site.css": "css/site.9999.css"}, "version": "1.1"}
    (static_root / "staticfiles.json").write_text(json.dumps(manifest))
    settings.STATIC_ROOT = static_root  # a deploy: the storage is made anew and reads it
    assert static("css/site.css") == "https://cdn.example/s/css/site.9999.css"


def test_a_name_missing_from_the_manifest_is_refused_every_time(static_root):
    ours = StaticFilesStorage()
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            ours.url("css/missing.css")


def test_debug_gives_the_plain_name(static_root, settings):
    ours = StaticFilesStorage()
    assert ours.url("css/site.css") == "/static/css/site.1234.css"
    settings.DEBUG = True
    assert ours.url("css/site.css") == "/static/css/site.css"
