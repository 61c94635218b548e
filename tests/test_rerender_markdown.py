"""`manage.py rerender_markdown`: stored HTML brought in line with the renderer."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from social import markup
from social.models import Comment, Post
from tests.factories import CommentFactory, PostFactory

STALE = "<p>rendered by an older version</p>"


def run(*args) -> str:
    out = io.StringIO()
    call_command("rerender_markdown", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def content(db):
    fresh = PostFactory(body="Already **right**")
    stale = PostFactory(body="Now **bold**")
    Post.objects.filter(pk=stale.pk).update(body_html=STALE)
    comment = CommentFactory(post=fresh, body="A [link](https://example.org)")
    Comment.objects.filter(pk=comment.pk).update(body_html=STALE)
    return {"fresh": fresh, "stale": stale, "comment": comment}


def test_stale_html_is_rendered_again_and_fresh_html_left_alone(content):
    output = run()
    assert "posts: 2 read, 1 re-rendered." in output
    assert "comments: 1 read, 1 re-rendered." in output
    content["stale"].refresh_from_db()
    assert content["stale"].body_html == markup.render("Now **bold**")
    assert "<strong>bold</strong>" in content["stale"].body_html
    content["comment"].refresh_from_db()
    assert 'rel="nofollow noopener ugc"' in content["comment"].body_html


def test_a_second_run_changes_nothing(content):
    run()
    with CaptureQueriesContext(connection) as queries:
        output = run()
    assert "posts: 2 read, 0 re-rendered." in output
    assert "comments: 1 read, 0 re-rendered." in output
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]


def test_dry_run_counts_and_writes_nothing(content):
    output = run("--dry-run")
    assert "posts: 2 read, 1 would change." in output
    assert "comments: 1 read, 1 would change." in output
    content["stale"].refresh_from_db()
    assert content["stale"].body_html == STALE


def test_only_the_html_column_is_written(content):
    with CaptureQueriesContext(connection) as queries:
        run("--only", "posts")
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    set_clause = updates[0].split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    assert set_clause.startswith('"body_html" =')
    for column in ('"body" =', '"hidden"', '"edited_at"', '"author_id"', '"created_at"'):
        assert column not in set_clause
    content["comment"].refresh_from_db()
    assert content["comment"].body_html == STALE  # --only posts


def test_reads_by_keyset_in_batches(db):
    posts = PostFactory.create_batch(5)
    Post.objects.update(body_html=STALE)
    with CaptureQueriesContext(connection) as queries:
        output = run("--batch", "2", "--only", "posts")
    assert "posts: 5 read, 5 re-rendered." in output
    selects = [q["sql"] for q in queries if 'FROM "social_post"' in q["sql"]]
    assert not [sql for sql in selects if "OFFSET" in sql]
    assert sum('"social_post"."id" >' in sql for sql in selects) == 4  # 2 + 2 + 1, then none
    assert all(
        post.body_html != STALE for post in Post.objects.filter(pk__in=[p.pk for p in posts])
    )


def test_a_body_edited_during_the_run_keeps_its_own_html(db, monkeypatch):
    post = PostFactory(body="First words")
    Post.objects.filter(pk=post.pk).update(body_html=STALE)
    real_render = markup.render

    def render_while_the_author_edits(text):
        # The author saves an edit after the batch was read, before it is written.
        Post.objects.filter(pk=post.pk).update(
            body="Edited words", body_html=real_render("Edited words")
        )
        return real_render(text)

    monkeypatch.setattr(markup, "render", render_while_the_author_edits)
    output = run("--only", "posts")
    assert "posts: 1 read, 0 re-rendered." in output
    post.refresh_from_db()
    assert post.body == "Edited words"
    assert post.body_html == real_render("Edited words")


def test_progress_goes_to_stderr(content):
    err = io.StringIO()
    call_command("rerender_markdown", "--only", "posts", stdout=io.StringIO(), stderr=err)
    assert "posts: 100% (id" in err.getvalue()


def test_empty_tables_are_fine(db):
    assert "posts: 0 read, 0 re-rendered." in run()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "must be a positive whole number, not '0'"),
        (["--batch", "many"], "must be a positive whole number, not 'many'"),
        (["--only", "users"], "invalid choice: 'users'"),
        (["surplus"], "unrecognized arguments: surplus"),
    ],
)
def test_bad_arguments_are_a_clear_command_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rerender_markdown", *args, stdout=io.StringIO(), stderr=io.StringIO())
