from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("register/done/", views.RegisterDoneView.as_view(), name="register_done"),
    path("confirm/resend/", views.ResendConfirmationView.as_view(), name="confirm_resend"),
    path("confirm/<str:token>/", views.ConfirmEmailView.as_view(), name="confirm"),
    path("unconfirmed/", views.UnconfirmedView.as_view(), name="unconfirmed"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("profile/", views.ProfileEditView.as_view(), name="profile_edit"),
    path("settings/", views.AccountSettingsView.as_view(), name="settings"),
    path("reauthenticate/", views.ReauthenticateView.as_view(), name="reauthenticate"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("export/", views.DataExportView.as_view(), name="export"),
    path("delete/", views.AccountDeleteView.as_view(), name="delete"),
    path("sessions/<int:pk>/end/", views.SessionEndView.as_view(), name="session_end"),
    path("sessions/end-others/", views.SessionEndOthersView.as_view(), name="sessions_end_others"),
    path("email/change/", views.EmailChangeView.as_view(), name="email_change"),
    path(
        "email/confirm/<str:token>/",
        views.EmailChangeConfirmView.as_view(),
        name="email_change_confirm",
    ),
]
