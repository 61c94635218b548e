"""The site's URLs plus the ceiling view."""

from django.urls import path

from bench.views import ceiling
from offbrand.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("bench/ceiling", ceiling)]
