"""Second-factor pages: the sign-in step, passwordless passkeys, and the member's settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import ratelimits
from accounts.flows.reauthentication import reauth_record
from accounts.mfa import flows, services
from accounts.mfa.forms import CodeForm, PasskeyAnswerForm, PasskeyNameForm, TotpSetupForm
from accounts.mfa.models import Passkey, TotpDevice
from accounts.mixins import EncodedRedirectURLMixin, RecentAuthRequiredMixin
from accounts.selectors import suspension_message

NO_ANSWER = (
    "Your browser did not answer. Passkeys need JavaScript and a browser or device "
    "that supports them."
)
WRONG_CODE = "That code isn't right, or it was already used. Please try again."
TOTP_SECRET_KEY = "mfa_totp_secret"


def left_message(left: int) -> str:
    if left == 0:
        return "That was your last recovery code. Make new ones now."
    return f"You have {left} recovery code{'s' if left != 1 else ''} left."


# --- The second step of a sign-in ----------------------------------------------------


class AuthenticateView(View):
    """After a correct password: a passkey, an app code or a recovery code."""

    template_name = "mfa/authenticate.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.pending = flows.login_pending(request)
        except flows.PendingExpired:
            messages.error(request, "Your sign-in took too long. Please sign in again.")
            return redirect("accounts:login")
        if self.pending is None:
            return redirect("accounts:login")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(CodeForm())

    def post(self, request):
        user = self.pending.user
        attempt = flows.factor_attempt(request, user)
        if not attempt.allowed:
            return ratelimits.too_many_requests(request, attempt.verdict)
        if "credential" in request.POST:
            return self.post_passkey(user, attempt)
        form = CodeForm(request.POST)
        if not form.is_valid():
            attempt.succeeded()  # nothing was checked
            return self.render(form)
        code = form.cleaned_data["code"]
        if form.is_totp:
            if services.totp_verify(user=user, code=code):
                return self.complete(attempt)
        else:
            left = services.recovery_code_use(user=user, code=code, request=request)
            if left is not None:
                response = self.complete(attempt)
                messages.warning(request, left_message(left))
                return response
        form.add_error("code", WRONG_CODE)
        return self.render(form)

    def post_passkey(self, user, attempt):
        form = PasskeyAnswerForm(self.request.POST)
        if not form.is_valid():
            messages.error(self.request, NO_ANSWER)
            return redirect("mfa:authenticate")
        try:
            services.passkey_authenticate(
                credential=form.cleaned_data["credential"],
                token=form.cleaned_data["token"],
                user=user,
            )
        except services.PasskeyError as error:
            messages.error(self.request, str(error))
            return redirect("mfa:authenticate")
        return self.complete(attempt)

    def complete(self, attempt):
        attempt.succeeded()
        flows.login_complete(self.request, self.pending)
        return redirect(self.pending.next_url)

    def render(self, form):
        user = self.pending.user
        context = {
            "form": form,
            "has_totp": TotpDevice.objects.filter(user=user).exists(),
            "has_passkeys": Passkey.objects.filter(user=user).exists(),
        }
        if context["has_passkeys"]:
            options, token = services.passkey_authentication_options(user)
            context.update(passkey_options=options, passkey_token=token)
        status = 400 if form.errors else 200
        return render(self.request, self.template_name, context, status=status)


class CancelView(View):
    http_method_names = ["post"]

    def post(self, request):
        flows.login_abandon(request)
        return redirect("accounts:login")


class PasskeyLoginView(View):
    """Sign in with a passkey alone: no username, no password."""

    http_method_names = ["post"]

    def post(self, request):
        form = PasskeyAnswerForm(request.POST)
        if not form.is_valid():  # nothing to check
            messages.error(request, NO_ANSWER)
            return redirect("accounts:login")
        attempt = flows.passkey_attempt(request, form.cleaned_data["credential"])
        if not attempt.allowed:
            return ratelimits.too_many_requests(request, attempt.verdict)
        try:
            passkey = services.passkey_authenticate(
                credential=form.cleaned_data["credential"], token=form.cleaned_data["token"]
            )
        except services.PasskeyError as error:
            messages.error(request, str(error))
            return redirect("accounts:login")
        user = passkey.user
        if not user.is_active:
            messages.error(request, suspension_message(user, "you can't sign in"))
            return redirect("accounts:login")
        attempt.succeeded()
        flows.login_abandon(request)
        flows.passkey_login(request, user)
        return redirect(self.next_url())

    def next_url(self) -> str:
        target = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("index")


class ReauthenticateView(LoginRequiredMixin, EncodedRedirectURLMixin, View):
    """Confirm it's you with a passkey or an app code instead of the password."""

    template_name = "mfa/reauthenticate.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.has_factors(request.user):
            return redirect(f"{reverse('accounts:reauthenticate')}?{request.GET.urlencode()}")
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return reverse("accounts:settings")

    def get(self, request):
        return self.render(self.code_form())

    def post(self, request):
        user = request.user
        attempt = flows.factor_attempt(request, user)
        if not attempt.allowed:
            return ratelimits.too_many_requests(request, attempt.verdict)
        if "credential" in request.POST:
            answer = PasskeyAnswerForm(request.POST)
            try:
                if not answer.is_valid():
                    raise services.PasskeyError(NO_ANSWER)
                services.passkey_authenticate(
                    credential=answer.cleaned_data["credential"],
                    token=answer.cleaned_data["token"],
                    user=user,
                )
            except services.PasskeyError as error:
                messages.error(request, str(error))
                return self.render(self.code_form(), status=400)
            return self.confirmed(attempt)
        form = self.code_form(request.POST)
        if not form.is_valid():
            attempt.succeeded()  # nothing was checked
            return self.render(form)
        if form.is_totp and services.totp_verify(user=user, code=form.cleaned_data["code"]):
            return self.confirmed(attempt)
        form.add_error("code", WRONG_CODE)
        return self.render(form)

    def code_form(self, data=None):
        """App codes only: a recovery code is for getting in, not for confirming."""
        return CodeForm(data, recovery_codes=False)

    def confirmed(self, attempt):
        attempt.succeeded()
        reauth_record(self.request)
        return redirect(self.get_success_url())

    def render(self, form, status=None):
        user = self.request.user
        context = {
            "form": form,
            "next": self.get_redirect_url(),
            "has_totp": TotpDevice.objects.filter(user=user).exists(),
            "has_passkeys": Passkey.objects.filter(user=user).exists(),
            "window_minutes": max(1, settings.OFFBRAND_REAUTH_SECONDS // 60),
        }
        if context["has_passkeys"]:
            options, token = services.passkey_authentication_options(user)
            context.update(passkey_options=options, passkey_token=token)
        if status is None:
            status = 400 if form.errors else 200
        return render(self.request, self.template_name, context, status=status)


# --- The member's settings -----------------------------------------------------------


class IndexView(LoginRequiredMixin, TemplateView):
    """Passkeys and two-factor: what the member has, and what they can add."""

    template_name = "mfa/index.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        passkeys = list(Passkey.objects.filter(user=user))
        totp = TotpDevice.objects.filter(user=user).first()
        return super().get_context_data(
            passkeys=passkeys,
            totp=totp,
            recovery_codes_left=services.recovery_codes_left(user),
            has_factors=bool(passkeys) or totp is not None,
            **kwargs,
        )


class PasskeyAddView(RecentAuthRequiredMixin, View):
    """Name a passkey, let the browser make it, keep it."""

    template_name = "mfa/passkey_add.html"

    def get(self, request):
        return self.render(PasskeyNameForm())

    def post(self, request):
        form, answer = PasskeyNameForm(request.POST), PasskeyAnswerForm(request.POST)
        if not form.is_valid():
            return self.render(form)
        if not answer.is_valid():
            form.add_error(None, NO_ANSWER)
            return self.render(form)
        try:
            passkey = services.passkey_register(
                user=request.user,
                name=form.cleaned_data["name"],
                credential=answer.cleaned_data["credential"],
                token=answer.cleaned_data["token"],
                request=request,
            )
        except services.PasskeyError as error:
            form.add_error(None, str(error))
            return self.render(form)
        messages.success(request, f"Passkey “{passkey.name}” added.")
        if not services.recovery_codes_left(request.user):
            messages.info(request, "Now make your recovery codes, in case you lose your passkey.")
            return redirect("mfa:recovery_codes")
        return redirect("mfa:index")

    def render(self, form):
        """The form as submitted (errors and all), with a fresh challenge each time."""
        options, token = services.passkey_registration_options(self.request.user)
        context = {"form": form, "passkey_options": options, "passkey_token": token}
        return render(self.request, self.template_name, context, status=400 if form.errors else 200)


class PasskeyRemoveView(RecentAuthRequiredMixin, View):
    template_name = "mfa/remove.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.passkey = Passkey.objects.filter(user=request.user, pk=kwargs["pk"]).first()
            if self.passkey is None:
                raise Http404("No such passkey.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return render(request, self.template_name, {"what": f"the passkey “{self.passkey.name}”"})

    def post(self, request, pk):
        if services.passkey_remove(user=request.user, passkey_id=self.passkey.pk, request=request):
            messages.success(request, f"Passkey “{self.passkey.name}” removed.")
        return redirect("mfa:index")


class TotpSetupView(RecentAuthRequiredMixin, FormView):
    """Scan the QR code (or type the secret), then prove it with a code."""

    template_name = "mfa/totp_setup.html"
    form_class = TotpSetupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and TotpDevice.objects.filter(user=request.user).exists():
            messages.info(request, "Your authenticator app is already set up.")
            return redirect("mfa:index")
        return super().dispatch(request, *args, **kwargs)

    def secret(self) -> str:
        secret = self.request.session.get(TOTP_SECRET_KEY)
        if not secret:
            secret = self.request.session[TOTP_SECRET_KEY] = services.totp_new_secret()
        return secret

    def get_context_data(self, **kwargs):
        secret = self.secret()
        uri = services.totp_provisioning_uri(self.request.user, secret)
        return super().get_context_data(
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr_svg=services.totp_qr_svg(uri),
            **kwargs,
        )

    def form_valid(self, form):
        enabled = services.totp_enable(
            user=self.request.user,
            secret=self.secret(),
            code=form.cleaned_data["code"],
            request=self.request,
        )
        if not enabled:
            form.add_error("code", "That code isn't right. Check the app and try the new code.")
            return self.form_invalid(form)
        self.request.session.pop(TOTP_SECRET_KEY, None)
        messages.success(self.request, "Your authenticator app is set up.")
        if not services.recovery_codes_left(self.request.user):
            messages.info(
                self.request, "Now make your recovery codes, in case you lose your phone."
            )
            return redirect("mfa:recovery_codes")
        return redirect("mfa:index")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class TotpRemoveView(RecentAuthRequiredMixin, View):
    template_name = "mfa/remove.html"

    def get(self, request):
        if not TotpDevice.objects.filter(user=request.user).exists():
            return redirect("mfa:index")
        return render(request, self.template_name, {"what": "your authenticator app"})

    def post(self, request):
        if services.totp_disable(user=request.user, request=request):
            messages.success(request, "Your authenticator app was removed.")
        return redirect("mfa:index")


class RecoveryCodesView(RecentAuthRequiredMixin, View):
    """How many codes are left; making a new set shows it once, with a download."""

    template_name = "mfa/recovery_codes.html"

    def get(self, request):
        return render(request, self.template_name, self.context())

    def post(self, request):
        if not services.has_factors(request.user):
            messages.error(request, "Add a passkey or an authenticator app first.")
            return redirect("mfa:index")
        codes = services.recovery_codes_generate(user=request.user, request=request)
        return render(request, self.template_name, self.context(codes=codes))

    def context(self, codes=None):
        user = self.request.user
        return {
            "codes": codes,
            "codes_text": "\r\n".join(codes) + "\r\n" if codes else "",
            "left": services.recovery_codes_left(user),
            "has_factors": services.has_factors(user),
        }
