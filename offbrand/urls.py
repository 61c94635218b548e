from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from offbrand import views

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
