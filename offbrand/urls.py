from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from offbrand import views
from social.views import ProfileView

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # A profile is the accounts page with the member's posts and follows.
    path("users/<str:username>/", ProfileView.as_view(), name="profile"),
    path("accounts/", include("accounts.mfa.urls")),
    path("", include("accounts.urls_members")),
    path("", include("social.urls")),
    # Uploaded avatars from local storage. A deployment with object storage
    # (or a proxy serving MEDIA_ROOT) never reaches this route.
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", views.media, name="media"),
]

# None of the error pages parses the posted body (offbrand.views._leave_the_body_alone).
handler400 = "offbrand.views.bad_request"
handler403 = "offbrand.views.permission_denied"
handler404 = "offbrand.views.page_not_found"
handler500 = "offbrand.views.server_error"
