"""Public member pages and moderation, outside /accounts/.

The profile page itself (`profile`) is routed in offbrand/urls.py: the site
shows `accounts.views.ProfileView` with the member's posts (social app).
"""

from django.urls import path, re_path

from accounts import views

urlpatterns = [
    path("users/<str:username>/edit/", views.MemberEditView.as_view(), name="member_edit"),
    path(
        "users/<str:username>/factors/remove/",
        views.MemberFactorsRemoveView.as_view(),
        name="member_factors_remove",
    ),
    path("moderate/users/", views.ModerationListView.as_view(), name="moderation"),
    path(
        "moderate/users/<str:username>/<str:action>/",
        views.ModerateMemberView.as_view(),
        name="moderate",
    ),
    re_path(
        r"^avatars/identicon/(?P<key>[0-9a-f]{24})-(?P<size>[0-9]{1,4})\.png$",
        views.identicon_image,
        name="identicon",
    ),
]
