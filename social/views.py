"""Pages for members' content: each view parses the request, calls one service, responds.

The flag checks live in the services too; the views check first so a member
without the flag gets the 403 page, and a visitor the sign-in page.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import ratelimits
from accounts.mixins import PermissionRequiredMixin, RateLimitMixin, RetryNotice, safe_next
from accounts.models import ModerationAction, Permission
from accounts.sessions import read_with_session
from accounts.views import ProfileView as AccountsProfileView
from accounts.views import get_member, shown_member
from social import kept_pages, selectors, services
from social.forms import BlankForm, CommentForm, HideForm, PostForm, RestoreForm
from social.models import Comment, Post


def first_error(error: ValidationError) -> str:
    return error.messages[0]


# --- The home feed -----------------------------------------------------------


class FeedView(TemplateView):
    """A signed-in member's home: the feed, a compose box if they may write."""

    template_name = "social/feed.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        before = selectors.parse_cursor(self.request.GET.get("before"))
        # Read with the session if it could be (`IndexView.read_with_session`).
        rows = read_with_session(self.request, selectors.feed_key(before=before), user.pk)
        page = selectors.feed(user=user, before=before, rows=rows)
        suggestions = []
        if not page.items and before is None:
            suggestions = selectors.who_to_follow(user=user)
        return super().get_context_data(
            page=page,
            suggestions=suggestions,
            form=BlankForm(PostForm) if user.can(Permission.WRITE) else None,
            **kwargs,
        )

    def render_to_response(self, context, **response_kwargs):
        # Kept per process by everything it shows (social/kept_pages.py); not the
        # suggestions of an empty feed.
        key = None
        if context["page"].items:
            key = kept_pages.page_key(self.request, self.template_name, context)
        return kept_pages.respond(
            self.request,
            key,
            context,
            lambda: super(FeedView, self).render_to_response(context, **response_kwargs),
        )


# --- Posts -------------------------------------------------------------------


class PostCreateView(PermissionRequiredMixin, RateLimitMixin, FormView):
    """The compose form: on the feed and the member's profile, and here for errors."""

    permission_required = Permission.WRITE
    rate_limits = {"post_create_user": "user"}
    template_name = "social/post_form.html"
    form_class = PostForm

    def form_valid(self, form):
        try:
            post = services.post_create(author=self.request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error("body", first_error(error))
            return self.form_invalid(form)
        messages.success(self.request, "Your post is published.")
        return redirect(safe_next(self.request, post.get_absolute_url()))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def get_post(pk: int, viewer) -> Post:
    post = selectors.post_with_counts(pk)
    if post is None or not post.visible_to(viewer):
        raise Http404("No such post.")
    return post


class PostDetailView(View):
    """A post with its comments, oldest first; POST adds a comment."""

    template_name = "social/post_detail.html"

    def get(self, request, pk):
        post = get_post(pk, request.user)
        form = CommentForm() if request.user.can(Permission.COMMENT) else None
        return self.render(post, form)

    def post(self, request, pk):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        if not request.user.can(Permission.COMMENT):
            raise PermissionDenied("Your role does not allow you to comment.")
        verdict = ratelimits.hit("comment_create_user", f"user:{request.user.pk}")
        post = get_post(pk, request.user)
        if not verdict.allowed:
            # The same page, the comment as typed, and when it can be sent.
            notice = RetryNotice.from_verdict(verdict, "You've commented a lot in a short time.")
            form = CommentForm(initial={"body": request.POST.get("body", "")})
            response = self.render(post, form, status=429, rate_limit=notice)
            response["Retry-After"] = str(notice.seconds)
            return response
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                comment = services.comment_create(
                    post=post, author=request.user, body=form.cleaned_data["body"]
                )
            except ValidationError as error:
                form.add_error("body", first_error(error))
            else:
                messages.success(request, "Your comment is posted.")
                return redirect(comment.get_absolute_url())
        return self.render(post, form, status=400)

    def render(self, post, form, status=200, rate_limit=None):
        viewer = self.request.user
        comments = selectors.post_comments(post=post, viewer=viewer)
        for comment in comments:
            comment.deletable = services.can_delete_comment(viewer, comment)
            comment.moderatable = services.can_moderate_content(viewer, comment)
        context = {
            "post": post,
            "comments": comments,
            "form": form,
            "can_moderate_post": services.can_moderate_content(viewer, post),
            "rate_limit": rate_limit,
        }
        return render(self.request, self.template_name, context, status=status)


class PostEditView(LoginRequiredMixin, FormView):
    template_name = "social/post_edit.html"
    form_class = PostForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.post_obj = get_post(kwargs["pk"], request.user)
            if request.user.pk != self.post_obj.author_id:
                raise PermissionDenied("Only its author can edit a post.")
            if not request.user.can(Permission.WRITE):
                raise PermissionDenied("Your role does not allow you to write posts.")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"body": self.post_obj.body}

    def get_context_data(self, **kwargs):
        return super().get_context_data(post=self.post_obj, **kwargs)

    def form_valid(self, form):
        try:
            services.post_update(
                post=self.post_obj, editor=self.request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", first_error(error))
            return self.form_invalid(form)
        messages.success(self.request, "Your post is updated.")
        return redirect(self.post_obj.get_absolute_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PostDeleteView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        post = Post.objects.filter(pk=pk).first()
        if post is None:
            messages.info(request, "That post was already deleted.")
            return redirect("index")
        services.post_delete(post=post, actor=request.user)
        messages.success(request, "Your post is deleted.")
        return redirect("profile", username=request.user.username)


class CommentDeleteView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        comment = Comment.objects.select_related("post").filter(pk=pk).first()
        if comment is None:
            messages.info(request, "That comment was already deleted.")
            return redirect("index")
        services.comment_delete(comment=comment, actor=request.user)
        messages.success(request, "The comment is deleted.")
        return redirect(comment.post.get_absolute_url())


# --- Follows and profiles ----------------------------------------------------


class FollowView(PermissionRequiredMixin, RateLimitMixin, View):
    permission_required = Permission.FOLLOW
    rate_limits = {"follow_user": "user"}
    rate_limit_reason = "You've followed and unfollowed a lot in a short time."
    http_method_names = ["post"]
    follow = True

    def post(self, request, username):
        try:
            member = get_member(username)
        except Http404:
            messages.error(request, "That member no longer exists.")
            return redirect("index")
        try:
            if self.follow:
                services.follow_create(follower=request.user, followed=member)
                messages.success(request, f"You follow {member.username}.")
            else:
                services.follow_delete(follower=request.user, followed=member)
                messages.success(request, f"You no longer follow {member.username}.")
        except ValidationError as error:
            messages.error(request, first_error(error))
        return redirect(safe_next(request, reverse("profile", args=[member.username])))


class UnfollowView(FollowView):
    follow = False


class ProfileView(AccountsProfileView):
    """The accounts profile, with the member's posts, follow counts and button."""

    template_name = "social/profile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member, viewer = context["member"], self.request.user
        before = selectors.parse_cursor(self.request.GET.get("before"))
        page, counts = selectors.profile_page(member=member, viewer=viewer, before=before)
        context.update(
            page=page,
            counts=counts,
            count_cap=selectors.COUNT_CAP,
            following=selectors.is_following(viewer, member),
            form=BlankForm(PostForm)
            if context["is_owner"] and viewer.can(Permission.WRITE)
            else None,
        )
        return context

    def shown(self, context) -> tuple:
        """The accounts card's facts, the counts and the follow button's."""
        viewer = self.request.user
        counts = context["counts"]
        return (
            *super().shown(context),
            counts["followers"],
            counts["following"],
            context["count_cap"],
            context["following"],
            viewer.is_authenticated,
            viewer.can(Permission.FOLLOW),
        )

    def render_to_response(self, context, **response_kwargs):
        # The whole page kept per process by everything it shows (social/kept_pages.py).
        key = kept_pages.page_key(self.request, self.template_name, context, self.shown(context))
        return kept_pages.respond(
            self.request,
            key,
            context,
            lambda: super(ProfileView, self).render_to_response(context, **response_kwargs),
        )


class FollowListView(TemplateView):
    """Followers or following of a member, newest first, keyset pages."""

    template_name = "social/follow_list.html"
    direction = "followers"

    def get_context_data(self, **kwargs):
        viewer = self.request.user
        member = shown_member(self.kwargs["username"], viewer)
        before = selectors.parse_cursor(self.request.GET.get("before"))
        select = selectors.followers if self.direction == "followers" else selectors.following
        page = select(member=member, viewer=viewer, before=before)
        people = [
            getattr(row, "follower" if self.direction == "followers" else "followed")
            for row in page.items
        ]
        followed = selectors.followed_among(viewer, people)
        for person in people:
            person.viewer_follows = person.pk in followed
        return super().get_context_data(
            member=member, page=page, people=people, direction=self.direction, **kwargs
        )


# --- Moderation --------------------------------------------------------------


class ModerateContentView(PermissionRequiredMixin, FormView):
    """Hide or restore a post or comment: ask for the reason (GET), act (POST)."""

    permission_required = Permission.MODERATE
    template_name = "social/moderate_confirm.html"
    model: type[Post] | type[Comment] = Post

    def dispatch(self, request, *args, **kwargs):
        if kwargs["action"] not in ("hide", "restore"):
            raise Http404("No such action.")
        self.action = kwargs["action"]
        if request.user.can(Permission.MODERATE):
            self.content = (
                self.model.objects.select_related("author__role").filter(pk=kwargs["pk"]).first()
            )
            if self.content is None:
                raise Http404("No such content.")
            if not services.can_moderate_content(request.user, self.content):
                raise PermissionDenied("You can't moderate an administrator's content.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return HideForm if self.action == "hide" else RestoreForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            content=self.content,
            action=self.action,
            what="comment" if self.model is Comment else "post",
            **kwargs,
        )

    def form_valid(self, form):
        act = services.content_hide if self.action == "hide" else services.content_restore
        try:
            act(actor=self.request.user, content=self.content, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.info(self.request, first_error(error))
        else:
            done = "Hidden" if self.action == "hide" else "Restored"
            messages.success(self.request, f"{done}: the {self.get_context_data()['what']}.")
        return redirect(self.content.get_absolute_url())


class ModerationRecordView(PermissionRequiredMixin, TemplateView):
    """Moderators' actions on members and on content, side by side, newest first."""

    permission_required = Permission.MODERATE
    template_name = "social/moderation_record.html"

    def get_context_data(self, **kwargs):
        member_actions = list(ModerationAction.objects.select_related("actor", "member")[:50])
        content_actions = selectors.content_record()
        for action in member_actions:
            action.target = "member"
        for action in content_actions:
            action.target = "content"
        actions = sorted(
            member_actions + content_actions, key=lambda a: (a.created_at, a.pk), reverse=True
        )[:50]
        return super().get_context_data(actions=actions, **kwargs)
