"""Account pages: each view parses the request, calls one service, responds."""

import copy
import inspect
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.views import View
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, ListView, TemplateView

from accounts import ratelimits, selectors, services, tokens
from accounts.avatars import AVATAR_SIZES, identicon
from accounts.edits import EditConflict
from accounts.emails import after_response
from accounts.flows import factors, leaving, reauthentication, usersessions
from accounts.flows.reauthentication import ReauthOutcome
from accounts.forms import (
    AccountDeleteForm,
    EmailChangeForm,
    FactorRemovalForm,
    LoginForm,
    MemberAdminForm,
    ModerationForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    ReauthenticateForm,
    RegistrationForm,
    SetPasswordForm,
)
from accounts.mfa import flows as mfa_flows
from accounts.mfa import services as mfa_services
from accounts.mfa.services import factor_summary
from accounts.mixins import (
    AdminRequiredMixin,
    EncodedRedirectURLMixin,
    PermissionRequiredMixin,
    RateLimitMixin,
    RecentAuthRequiredMixin,
    RetryNotice,
    UnconfirmedAllowedMixin,
    allow_unconfirmed,
    safe_next,
)
from accounts.models import (
    MODERATION_KINDS,
    USERNAME_TAKEN,
    ModerationAction,
    Permission,
    User,
)
from accounts.pagination import EstimatedCountPaginator
from accounts.services import LinkOutcome
from accounts.usernames import username_key
from offbrand.urlcache import cached_reverse_or_none

DELAYED = (
    "We couldn't send the email just now; it may be delayed. "
    "If it hasn't arrived in a few minutes, ask for it again."
)


CONFIRMATION_SENT_AT = "confirmation_sent_at"


def remember_confirmation_sent(request) -> None:
    """When the last confirmation link went out, for "we sent a link at 17:21"."""
    request.session[CONFIRMATION_SENT_AT] = timezone.now().isoformat()


def report_email(request, sent: bool, success: str) -> None:
    """Tell the member an email is on its way, or that it may be delayed."""
    if sent:
        messages.success(request, success)
    else:
        messages.warning(request, DELAYED)


class RegisterView(RateLimitMixin, FormView):
    rate_limits = {"signup_ip": "ip"}
    rate_limit_reason = "Too many accounts have been created from your network."
    template_name = "accounts/register.html"
    form_class = RegistrationForm
    success_url = reverse_lazy("accounts:register_done")

    def form_valid(self, form):
        try:
            registration = services.user_register(
                email=form.cleaned_data["email"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                request=self.request,
            )
        except services.UsernameTaken:
            form.add_error("username", USERNAME_TAKEN)
            return self.form_invalid(form)
        self.request.session["registered_email"] = form.cleaned_data["email"]
        remember_confirmation_sent(self.request)
        if not registration.email_sent:
            messages.warning(self.request, DELAYED)
        return super().form_valid(form)


class RegisterDoneView(UnconfirmedAllowedMixin, TemplateView):
    template_name = "accounts/register_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            email=self.request.session.get("registered_email"), **kwargs
        )


class EmailLinkView(UnconfirmedAllowedMixin, View):
    """A link from an email: GET shows what it will do, POST does it.

    Mail scanners fetch links; only a person presses the button. The link
    proves the mailbox; the account is proven by being signed in to it in
    this browser, or else by its password (`services._holds_account`).
    """

    template_name: str
    done_message: str

    def check(self, token: str) -> services.LinkResult:
        raise NotImplementedError

    def act(self, token: str, password: str) -> services.LinkResult:
        raise NotImplementedError

    def get(self, request, token):
        result = self.check(token)
        return self.render(token, result.outcome, result.user)

    def post(self, request, token):
        result = self.act(token, request.POST.get("password", ""))
        if result.outcome == LinkOutcome.DONE:
            if self.signed_in_as(result.user):
                # Confirming and changing the address end the account's other
                # sessions; this one, which did it, stays.
                update_session_auth_hash(request, result.user)
            messages.success(request, self.done_message)
            return redirect("index")
        return self.render(token, result.outcome, self.check(token).user)

    def signed_in_as(self, user) -> bool:
        viewer = self.request.user
        return user is not None and viewer.is_authenticated and viewer.pk == user.pk

    def render(self, token, outcome, user=None):
        ok = (LinkOutcome.VALID, LinkOutcome.ALREADY_DONE, LinkOutcome.PASSWORD_NEEDED)
        context = {
            "outcome": outcome.value,
            "token": token,
            "needs_password": not self.signed_in_as(user),
            "password_wrong": outcome == LinkOutcome.PASSWORD_WRONG,
            "has_errors": outcome == LinkOutcome.PASSWORD_WRONG,  # "Error: " in the title
        }
        if outcome in ok or outcome == LinkOutcome.PASSWORD_WRONG:
            # A wrong password leaves the link as it was: the page still says what it does.
            context.update(self.link_context(token))
        status = 200 if outcome in ok else 400
        return render(self.request, self.template_name, context, status=status)

    def link_context(self, token) -> dict:
        """What the page says about the link's effect (e.g. the new address)."""
        return {}


class ConfirmEmailView(EmailLinkView):
    template_name = "accounts/confirm.html"
    done_message = "Thanks! Your email address is confirmed."

    def check(self, token):
        return services.confirmation_check(token)

    def act(self, token, password):
        return services.user_confirm_email(
            token=token, actor=self.request.user, password=password, request=self.request
        )


class EmailChangeConfirmView(EmailLinkView):
    template_name = "accounts/email_change_confirm.html"
    done_message = "Your email address has been changed."

    def check(self, token):
        return services.email_change_check(token)

    def link_context(self, token):
        change = services.email_change_pending(token)
        return {"change": change} if change else {}

    def act(self, token, password):
        return services.user_confirm_email_change(
            token=token, actor=self.request.user, password=password, request=self.request
        )


class UnconfirmedView(UnconfirmedAllowedMixin, LoginRequiredMixin, TemplateView):
    template_name = "accounts/unconfirmed.html"
    extra_context = {"confirm_max_age_minutes": settings.OFFBRAND_CONFIRM_MAX_AGE // 60}

    def get(self, request, *args, **kwargs):
        if request.user.confirmed:
            return redirect("index")
        return super().get(request, *args, **kwargs)


class ResendConfirmationView(UnconfirmedAllowedMixin, LoginRequiredMixin, RateLimitMixin, View):
    """ "Send again", from the banner on any page: the member stays on that page."""

    rate_limits = {
        "confirm_resend_ip": "ip",
        "confirm_resend_user": "user",
        "confirm_resend_user_hour": "user",
    }
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if request.user.confirmed:
            messages.info(request, "Your email address is already confirmed.")
            return redirect("index")
        sent = services.send_confirmation_email(request.user, request=request)
        remember_confirmation_sent(request)
        report_email(
            request, sent, f"A new confirmation link is on its way to {request.user.email}."
        )
        return redirect(safe_next(request, reverse("accounts:unconfirmed")))

    def rate_limited(self, notice: RetryNotice):
        sent_at = parse_datetime(self.request.session.get(CONFIRMATION_SENT_AT, "") or "")
        sent = (
            f"We sent a link to {self.request.user.email} at {timezone.localtime(sent_at):%H:%M}"
            if sent_at
            else f"We sent a link to {self.request.user.email} recently"
        )
        messages.error(
            self.request,
            f"{sent}; you can ask again in {notice.wait}, at {notice.at:%H:%M}. "
            "Check your spam folder meanwhile.",
        )
        return redirect(safe_next(self.request, reverse("accounts:unconfirmed")))


# Django's LoginView.dispatch under its three method decorators.
_django_login_dispatch = inspect.unwrap(auth_views.LoginView.dispatch)
if _django_login_dispatch.__qualname__ != "LoginView.dispatch":
    raise RuntimeError("auth_views.LoginView.dispatch changed: see accounts/views.py LoginView")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"

    @classmethod
    def as_view(cls, **initkwargs):
        """Django's decorators of `dispatch` (sensitive POST parameters, CSRF
        protection, never cache), in the same order, put around the view once:
        `method_decorator` made them again on every request, a CSRF middleware
        object among them (about 0.2 M instructions a sign-in, issue 16)."""
        view = super().as_view(**initkwargs)
        return sensitive_post_parameters()(csrf_protect(never_cache(view)))

    def dispatch(self, request, *args, **kwargs):
        return _django_login_dispatch(self, request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        options, token = mfa_services.passkey_authentication_options()
        return super().get_context_data(passkey_options=options, passkey_token=token, **kwargs)

    def form_invalid(self, form):
        # Warned before the last try the budget allows, not surprised by the pause.
        if ratelimits.signin_remaining(self.request) == 1:
            minutes = ratelimits.SIGN_IN_WINDOW // 60
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    last_attempt_warning=f"If it is wrong again, signing in from this browser "
                    f"pauses for {minutes} minutes. Not sure? Reset your password instead.",
                )
            )
        return super().form_invalid(form)

    def get_redirect_url(self, request=None):
        """Django's, without first working out the allowed hosts (`get_host()`
        and its ALLOWED_HOSTS check) when no `next` was sent: an empty URL is
        never safe, so Django's answer is "" then anyway (issue 16)."""
        request = request or self.request
        name = self.redirect_field_name
        if not (request.POST.get(name) or request.GET.get(name) or "").strip():
            return ""
        return super().get_redirect_url(request)

    def get_default_redirect_url(self):
        """Django's `resolve_url(LOGIN_REDIRECT_URL)`, a view name's URL kept
        (`offbrand.urlcache`): every sign-in asked `reverse()` again."""
        target = self.next_page or settings.LOGIN_REDIRECT_URL
        return (isinstance(target, str) and cached_reverse_or_none(target)) or resolve_url(target)

    def form_valid(self, form):
        user, remember = form.get_user(), bool(form.cleaned_data.get("remember"))
        if mfa_services.has_factors(user):
            # Not signed in yet: the second factor comes first.
            mfa_flows.login_begin(
                self.request, user, remember=remember, next_url=self.get_success_url()
            )
            return redirect("mfa:authenticate")
        services.sign_in(self.request, user)  # Django's form_valid, in a new session
        services.login_finalize(self.request, user, remember=remember)
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(UnconfirmedAllowedMixin, auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been signed out.")
        return response


class ReauthenticateView(
    UnconfirmedAllowedMixin, LoginRequiredMixin, EncodedRedirectURLMixin, FormView
):
    """Confirm the password, then go back to the page that asked for it."""

    template_name = "accounts/reauthenticate.html"
    form_class = ReauthenticateForm

    def get_default_redirect_url(self):
        return reverse("accounts:settings")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            next=self.get_redirect_url(),
            window_minutes=max(1, settings.OFFBRAND_REAUTH_SECONDS // 60),
            has_factors=mfa_services.has_factors(self.request.user),
            **kwargs,
        )

    def form_valid(self, form):
        outcome, refusal = reauthentication.reauth_with_password(
            request=self.request, user=self.request.user, password=form.cleaned_data["password"]
        )
        if outcome == ReauthOutcome.LIMITED:
            return ratelimits.too_many_requests(self.request, refusal)
        if outcome == ReauthOutcome.WRONG_PASSWORD:
            form.add_error("password", "That isn't your password.")
            return self.form_invalid(form)
        # Not redirect(): a `next` without a slash would be taken for a view name.
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeView(RecentAuthRequiredMixin, RateLimitMixin, auth_views.PasswordChangeView):
    # Per member and browser: a stolen session cannot slow the owner's own (F12).
    rate_limits = {"password_change_ip": "ip", "password_change_user": "member_browser"}
    rate_limit_reason = "Too many attempts to change your password."
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change")

    def get_form_kwargs(self):
        return {"request": self.request, **super().get_form_kwargs()}

    def form_valid(self, form):
        # Not form.save(): that writes the whole row loaded at the start of
        # the request, undoing a suspension or role change made meanwhile.
        services.user_set_password(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            actor=form.user,
            via=services.Via.OWN_PAGES,
        )
        old_key = self.request.session.session_key
        update_session_auth_hash(self.request, form.user)  # gives this session a new key
        # The new password revoked every browser's trust but this one's (attack F3).
        ratelimits.trust_device(self.request, form.user)
        usersessions.user_session_rekey(self.request, old_key)
        usersessions.user_sessions_end_others(request=self.request)
        response = redirect(self.get_success_url())
        services.notify_password_changed(self.request.user, request=self.request)
        messages.success(
            self.request,
            "Your password has been changed. Other devices signed in to your account "
            "have been signed out.",
        )
        return response


class PasswordResetView(RateLimitMixin, auth_views.PasswordResetView):
    rate_limits = {
        "password_reset_ip": "ip",
        "password_reset_email": "email",
        "password_reset_email_hour": "email",
    }
    rate_limit_reason = "Too many reset links have been asked for."
    form_class = PasswordResetForm
    token_generator = tokens.password_reset_tokens
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # The same work for every address: looking the address up and mailing
        # its owner (if any) happen after the response, so its timing tells nothing.
        after_response(
            self.request,
            form.save,
            domain_override=urlsplit(settings.SITE_URL).netloc,
            use_https=settings.SITE_URL.startswith("https:"),
            token_generator=self.token_generator,
        )
        return redirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    token_generator = tokens.password_reset_tokens
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # Lock the member's row and check the token again inside the
        # transaction: of two simultaneous uses of one link, one wins.
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=self.user.pk)
            token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN)
            if not self.token_generator.check_token(locked, token):
                self.validlink = False
                return self.render_to_response(self.get_context_data(form=form))
            # The link came to the account's address: it confirms it, too.
            services.user_set_password(
                user=locked,
                password=form.cleaned_data["new_password1"],
                actor=locked,
                via=services.Via.EMAIL_LINK,
                proves_mailbox=True,
            )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        # Following the emailed link proved the mailbox: this browser gets its
        # own sign-in budget, so a stranger's guesses cannot keep it out.
        ratelimits.trust_device(self.request, locked)
        # The reset voided every session (their auth hash); end them in the store too.
        usersessions.user_sessions_end_all(user=locked, request=self.request)
        return redirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class EmailChangeView(UnconfirmedAllowedMixin, RecentAuthRequiredMixin, RateLimitMixin, FormView):
    rate_limits = {"email_change_ip": "ip", "email_change_user": "member_browser"}
    rate_limit_reason = "Too many changes of address have been asked for."
    template_name = "accounts/email_change.html"
    form_class = EmailChangeForm

    def get_form_kwargs(self):
        return {"user": self.request.user, "request": self.request, **super().get_form_kwargs()}

    def form_valid(self, form):
        new_email = form.cleaned_data["new_email"]
        sent = services.user_request_email_change(
            user=self.request.user, new_email=new_email, request=self.request
        )
        report_email(
            self.request,
            sent,
            f"We sent a link to {new_email}. Your address changes when you follow it.",
        )
        return redirect("accounts:email_change")


# --- Profiles ----------------------------------------------------------------


def get_member(username: str, viewer=None) -> User:
    """The member named `username`; `viewer` itself, without a query, when it is them."""
    if "\x00" in username:  # no username has one; PostgreSQL would refuse it
        raise Http404("No such member.")
    key = username_key(username)
    if viewer is not None and viewer.is_authenticated and viewer.username_key == key:
        return viewer._wrapped if hasattr(viewer, "_wrapped") else viewer
    member = selectors.member_named(key)
    if member is None:
        raise Http404("No such member.")
    return member


def shown_member(username: str, viewer) -> User:
    """The member named `username` as `viewer` may see them: a suspended member's pages
    (profile, follow lists) are for moderators and administrators only, a 404 like an
    unknown name to everyone else."""
    member = get_member(username, viewer)
    if not member.is_active and not viewer.can(Permission.MODERATE):
        raise Http404("No such member.")
    return member


class ProfileView(TemplateView):
    template_name = "accounts/profile.html"

    @staticmethod
    def allow_unconfirmed(request, username, **kwargs) -> bool:
        """A member with an unconfirmed address may see their own profile."""
        return username == request.user.username

    def get_context_data(self, **kwargs):
        viewer = self.request.user
        member = shown_member(self.kwargs["username"], viewer)
        return super().get_context_data(
            member=member,
            is_owner=viewer.is_authenticated and viewer.pk == member.pk,
            show_email=viewer.pk == member.pk or viewer.is_administrator(),
            can_moderate=services.can_moderate(viewer, member)
            if viewer.is_authenticated
            else False,
            **kwargs,
        )

    def shown(self, context) -> tuple:
        """Everything the profile's card shows besides the clock's "… ago" (the key of
        `{% kept profile_key %}` in accounts/profile.html): a change to any of these,
        the member's or the viewer's, renders the card anew."""
        member, viewer = context["member"], self.request.user
        role = member.role
        return (
            member.username,
            member.first_name,
            member.last_name,
            member.email,
            member.is_active,
            role.name if role is not None else None,
            member.avatar_key(),
            member.date_joined,
            member.last_seen,
            member.about_me,
            context["is_owner"],
            context["show_email"],
            context["can_moderate"],
            viewer.is_administrator(),
        )

    def render_to_response(self, context, **response_kwargs):
        context["profile_key"] = self.shown(context)
        return super().render_to_response(context, **response_kwargs)


class ProfileEditView(LoginRequiredMixin, RateLimitMixin, FormView):
    rate_limits = {"profile_edit_user": "user"}
    accepts_files = True  # the avatar (offbrand.middleware.FileUploadGuardMiddleware)
    one_at_a_time = True  # at most one worker decodes a member's pictures
    file_rate_limits = ("avatar_upload_user",)  # and pictures come a few seconds apart
    template_name = "accounts/profile_edit.html"
    form_class = ProfileForm

    def get_form_kwargs(self):
        return {"instance": self.request.user, **super().get_form_kwargs()}

    def form_valid(self, form):
        try:
            user = services.profile_update(form=form)
        except EditConflict as conflict:
            form.show_conflict(conflict)
            return self.form_invalid(form)
        messages.success(
            self.request,
            format_html(
                'Your profile has been updated. <a href="{}">See your public profile</a>',
                reverse("profile", args=[user.username]),
            ),
        )
        return redirect("accounts:profile_edit")


class MemberEditView(AdminRequiredMixin, FormView):
    """The one member editor: an administrator edits any member and sees their record.

    The Django admin's member page leads here (`?next=` its list, as filtered);
    the admin's password form and delete page are linked from here.
    """

    template_name = "accounts/member_edit.html"
    form_class = MemberAdminForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_administrator():
            self.member = get_member(kwargs["username"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        # The form edits a copy, so a refused value never reaches the page around it.
        return {"instance": copy.copy(self.member), **super().get_form_kwargs()}

    def get_context_data(self, **kwargs):
        actions = self.member.moderation_actions.select_related("actor")[:50]
        next_url = safe_next(self.request, "")
        return super().get_context_data(
            member=self.member,
            actions=actions,
            factors=factor_summary(self.member),
            next=next_url,
            back=next_url or reverse("profile", args=[self.member.username]),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            member = services.member_admin_update(form=form, actor=self.request.user)
        except EditConflict as conflict:
            form.show_conflict(conflict)
            self.member = conflict.current  # the record and dates as they are now
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {member.username}.")
        return redirect(safe_next(self.request, reverse("profile", args=[member.username])))


class MemberFactorsRemoveView(AdminRequiredMixin, RecentAuthRequiredMixin, FormView):
    """An administrator removes a member's second factors, with a reason (GET asks)."""

    template_name = "accounts/member_factors_remove.html"
    form_class = FactorRemovalForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_administrator():
            self.member = get_member(kwargs["username"])
            if self.member.pk == request.user.pk:
                raise PermissionDenied("Remove your own factors from your account settings.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "member": self.member}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            member=self.member, factors=factor_summary(self.member), **kwargs
        )

    def form_valid(self, form):
        removed = factors.member_factors_remove(
            actor=self.request.user, member=self.member, reason=form.cleaned_data["reason"]
        )
        if removed:
            messages.success(
                self.request,
                f"Removed the second factors of {self.member.username}; they have been told.",
            )
        else:
            messages.info(self.request, f"{self.member.username} has no second factor.")
        return redirect("member_edit", username=self.member.username)


@allow_unconfirmed
@cache_control(public=True, max_age=365 * 24 * 3600, immutable=True)
def identicon_image(request, key, size):
    """A member's generated avatar: deterministic, so browsers keep it for a year."""
    size = int(size)
    if size not in AVATAR_SIZES.values():
        raise Http404("No such size.")
    # Not kept in the server cache: any 24-hex key is valid, so storing each
    # would let a crawler fill the cache that holds the rate limits.
    return HttpResponse(identicon(key, size), content_type="image/png")


# --- Moderation --------------------------------------------------------------


class ModerationListView(PermissionRequiredMixin, ListView):
    permission_required = Permission.MODERATE
    template_name = "accounts/moderation_list.html"
    context_object_name = "members"
    paginate_by = 25
    paginator_class = EstimatedCountPaginator

    def shows_addresses(self) -> bool:
        """Addresses are for their owner and administrators: a moderator neither
        sees them nor searches by them (a prefix search would spell them out)."""
        return self.request.user.is_administrator()

    def get_queryset(self):
        return selectors.moderation_members(
            query=self.request.GET.get("q", ""),
            active=self.request.GET.get("active", ""),
            by_email=self.shows_addresses(),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            query=self.request.GET.get("q", ""),
            active=self.request.GET.get("active", ""),
            shows_addresses=self.shows_addresses(),
            **kwargs,
        )
        for member in context["members"]:
            member.moderatable = services.can_moderate(self.request.user, member)
        return context


# What each moderation action says: its button, what it does, the reason's help,
# and what the moderator reads afterwards. Destructive ones are red.
MODERATION_WORDS = {
    ModerationAction.Kind.SUSPEND: {
        "button": "Suspend {name}",
        "effect": "{name} will be signed out everywhere at once and unable to sign in "
        "until reinstated. Their profile is hidden from members.",
        "reason_help": "Shown to {name} when they try to sign in, with how to appeal.",
        "done": "{name} is suspended and signed out.",
        "danger": True,
    },
    ModerationAction.Kind.REINSTATE: {
        "button": "Reinstate {name}",
        "effect": "{name} will be able to sign in again, and their profile is shown again.",
        "reason_help": "Kept in the moderation record; {name} does not see it.",
        "done": "{name} is reinstated and can sign in again.",
        "danger": False,
    },
    ModerationAction.Kind.CLEAR_ABOUT: {
        "button": "Clear the about-me of {name}",
        "effect": "The about-me text of {name} will be deleted for good; they can write a new one.",
        "reason_help": "Kept in the moderation record; {name} does not see it.",
        "done": "The about-me of {name} is cleared.",
        "danger": True,
    },
    ModerationAction.Kind.CLEAR_AVATAR: {
        "button": "Remove the photo of {name}",
        "effect": "The photo {name} uploaded will be deleted for good; they get a generated "
        "picture and can upload another.",
        "reason_help": "Kept in the moderation record; {name} does not see it.",
        "done": "The photo of {name} is removed.",
        "danger": True,
    },
}


class ModerateMemberView(PermissionRequiredMixin, FormView):
    """Ask for confirmation (GET), then act and record it (POST)."""

    permission_required = Permission.MODERATE
    template_name = "accounts/moderate_confirm.html"
    form_class = ModerationForm

    def words(self) -> dict:
        return {
            key: value.format(name=self.member.username) if isinstance(value, str) else value
            for key, value in MODERATION_WORDS[self.kind].items()
        }

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["reason"].help_text = self.words()["reason_help"]
        return form

    def dispatch(self, request, *args, **kwargs):
        try:
            self.kind = ModerationAction.Kind(kwargs["action"])
            if self.kind not in MODERATION_KINDS:
                raise ValueError(self.kind)
        except ValueError:
            raise Http404("No such action.") from None
        if request.user.can(Permission.MODERATE):
            self.member = get_member(kwargs["username"])
            if not services.can_moderate(request.user, self.member):
                raise PermissionDenied("You can't moderate this member.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            member=self.member,
            kind=self.kind,
            words=self.words(),
            back=safe_next(self.request, reverse("moderation")),
            **kwargs,
        )

    def form_valid(self, form):
        services.member_moderate(
            actor=self.request.user,
            member=self.member,
            kind=self.kind,
            reason=form.cleaned_data["reason"],
        )
        back = safe_next(self.request, reverse("moderation"))
        undo = {
            ModerationAction.Kind.SUSPEND: ModerationAction.Kind.REINSTATE,
        }.get(self.kind)
        # The message offers Undo as a button posting the opposite action at once.
        messages.success(
            self.request,
            render_to_string(
                "accounts/includes/moderation_done.html",
                {
                    "done": self.words()["done"],
                    "member": self.member,
                    "undo": undo,
                    "back": back,
                },
                request=self.request,
            ),
        )
        return redirect(back)


# --- Account settings and signed-in devices ------------------------------------------


class AccountSettingsView(LoginRequiredMixin, TemplateView):
    """One page that leads to every account setting."""

    template_name = "accounts/settings.html"


class SessionListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/sessions.html"

    def get_context_data(self, **kwargs):
        sessions = usersessions.user_sessions_list(request=self.request)
        return super().get_context_data(
            sessions=sessions, others=sum(not s.is_current for s in sessions), **kwargs
        )


class SessionEndView(LoginRequiredMixin, View):
    """Sign out one other device: its session is deleted from the store."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if usersessions.user_session_end(request=request, session_id=pk):
            messages.success(request, "That device has been signed out.")
        else:
            messages.info(request, "That device was already signed out.")
        return redirect("accounts:sessions")


class SessionEndOthersView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        ended = usersessions.user_sessions_end_others(request=request)
        if ended:
            messages.success(request, f"Signed out {ended} other device{pluralize(ended)}.")
        else:
            messages.info(request, "No other device was signed in.")
        return redirect("accounts:sessions")


# --- Leaving ---------------------------------------------------------------------


class DataExportView(UnconfirmedAllowedMixin, LoginRequiredMixin, View):
    """Download everything Offbrand holds about the member, as one JSON file."""

    def get(self, request):
        data = leaving.user_data_export(user=request.user, request=request)
        response = JsonResponse(data, json_dumps_params={"indent": 2})
        filename = f"offbrand-{request.user.pk}-{timezone.now():%Y-%m-%d}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class AccountDeleteView(UnconfirmedAllowedMixin, RecentAuthRequiredMixin, FormView):
    template_name = "accounts/account_delete.html"
    form_class = AccountDeleteForm

    def get_form_kwargs(self):
        return {"user": self.request.user, **super().get_form_kwargs()}

    def form_valid(self, form):
        try:
            leaving.user_delete(user=self.request.user, request=self.request)
        except leaving.LastAdministrator:
            form.add_error(
                None,
                "You are the last administrator: make another member an administrator "
                "before deleting your account.",
            )
            return self.form_invalid(form)
        logout(self.request)
        messages.success(self.request, "Your account has been deleted. Goodbye.")
        return redirect("index")
