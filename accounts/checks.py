"""System checks that guard the promises of `accounts`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """Rate limits are counted in the default cache: each process must see the same one."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend}) is per process: each worker would count "
            "sign-in attempts and other rate limits on its own, multiplying them.",
            hint="Set REDIS_URL, or leave CACHE_URL unset for the database cache.",
            id="offbrand.W001",
        )
    ]
