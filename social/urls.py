from django.urls import path

from social import views

app_name = "social"

urlpatterns = [
    path("posts/new/", views.PostCreateView.as_view(), name="post_create"),
    path("posts/<int:pk>/", views.PostDetailView.as_view(), name="post"),
    path("posts/<int:pk>/edit/", views.PostEditView.as_view(), name="post_edit"),
    path("posts/<int:pk>/delete/", views.PostDeleteView.as_view(), name="post_delete"),
    path("comments/<int:pk>/delete/", views.CommentDeleteView.as_view(), name="comment_delete"),
    path("users/<str:username>/follow/", views.FollowView.as_view(), name="follow"),
    path("users/<str:username>/unfollow/", views.UnfollowView.as_view(), name="unfollow"),
    path(
        "users/<str:username>/followers/",
        views.FollowListView.as_view(direction="followers"),
        name="followers",
    ),
    path(
        "users/<str:username>/following/",
        views.FollowListView.as_view(direction="following"),
        name="following",
    ),
    path(
        "moderate/posts/<int:pk>/<str:action>/",
        views.ModerateContentView.as_view(model=views.Post),
        name="moderate_post",
    ),
    path(
        "moderate/comments/<int:pk>/<str:action>/",
        views.ModerateContentView.as_view(model=views.Comment),
        name="moderate_comment",
    ),
    path("moderate/record/", views.ModerationRecordView.as_view(), name="moderation_record"),
]
