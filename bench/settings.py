"""The site's own settings, plus the benchmark: its app (`manage.py members`) and
its extra URL (`/bench/ceiling`)."""

from offbrand.settings import *  # noqa: F403
from offbrand.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]
ROOT_URLCONF = "bench.urls"
