"""Static files as whitenoise serves them, with each URL looked up once per process.

`{% static %}` asks the manifest storage for a URL on every use: the hashed
name from the manifest, then `urljoin` and quoting against `STATIC_URL`; every
page's head has four of them. The answer depends only on the name, the
manifest (read once, when the storage is made) and the settings, and the
storage is made anew when those settings change, so each instance keeps the
URLs it has given; a `collectstatic` run in the same process empties them.

`STORAGES["staticfiles"]["BACKEND"] = "offbrand.storage.StaticFilesStorage"`.
"""

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

MAX_URLS = 4096


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple, str] = {}

    def url(self, name, force=False):
        """The manifest storage's URL for `name`, from memory when asked before."""
        if force:
            return super().url(name, force=True)
        key = (name, settings.DEBUG)
        found = self._urls.get(key)
        if found is None:
            found = super().url(name)
            if len(self._urls) >= MAX_URLS:
                self._urls.clear()
            self._urls[key] = found
        return found

    def post_process(self, *args, **kwargs):
        """`collectstatic` makes new hashed names: give the new URLs from then on."""
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
