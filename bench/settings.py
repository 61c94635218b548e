"""The site's own settings, plus the benchmark's extra URL (`/bench/ceiling`)."""

from offbrand.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
