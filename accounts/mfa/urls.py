from django.urls import path

from accounts.mfa import views

app_name = "mfa"

urlpatterns = [
    path("2fa/", views.AuthenticateView.as_view(), name="authenticate"),
    path("2fa/cancel/", views.CancelView.as_view(), name="cancel"),
    path("passkey/sign-in/", views.PasskeyLoginView.as_view(), name="passkey_login"),
    path("security/", views.IndexView.as_view(), name="index"),
    path("security/confirm/", views.ReauthenticateView.as_view(), name="reauthenticate"),
    path("security/passkeys/add/", views.PasskeyAddView.as_view(), name="passkey_add"),
    path(
        "security/passkeys/<int:pk>/remove/",
        views.PasskeyRemoveView.as_view(),
        name="passkey_remove",
    ),
    path("security/totp/", views.TotpSetupView.as_view(), name="totp_setup"),
    path("security/totp/remove/", views.TotpRemoveView.as_view(), name="totp_remove"),
    path("security/recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery_codes"),
]
