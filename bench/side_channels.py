"""Timing and cost figures of issue 11, against the site in production mode.

    .venv/bin/python bench/side_channels.py [--tries 30] [--database-url URL]
                                            [--redis-url URL] [--port N]

Serves the site in production mode (DEBUG off, the real Argon2 hasher) with
gunicorn, 2 workers, on 127.0.0.1 (`--port`, or a free port), and prints the
median of `--tries` requests per case. The database is the embedded default
(a fresh SQLite file, the database cache) unless `--database-url` names an
empty one (e.g. PostgreSQL), with Redis as the cache if `--redis-url` is given:

- password reset for a registered address vs an unknown one;
- registration with a taken address vs a new one;
- an avatar upload of a 706-byte lossless WebP declaring 4096 x 4096.

Every try comes from its own client address (one trusted proxy, a fresh
X-Forwarded-For), so no rate limit answers in place of the page.
"""

import argparse
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.servers import (  # noqa: E402
    MEMBER_PASSWORD,
    MEMBER_USERNAME,
    Client,
    Deployment,
    Gunicorn,
)


def median_ms(replies) -> float:
    return statistics.median(reply.seconds for reply in replies) * 1000


def timed_posts(server, path, forms, first_ip):
    """POST each form from a fresh browser and address; the replies."""
    replies = []
    for n, data in enumerate(forms):
        browser = Client(server.url)
        _, token = browser.csrf_pair(path)
        ip = f"10.{first_ip}.{len(forms)}.{n + 1}"
        reply = browser.request(
            "POST",
            path,
            {"csrfmiddlewaretoken": token, **data},
            headers={"X-Forwarded-For": ip},
        )
        assert reply.status in (200, 302), (path, reply.status, reply.text[:300])
        replies.append(reply)
        # Let work queued after the answer (mail, the notice's limit) finish:
        # on SQLite it holds the write lock the next try would wait for.
        time.sleep(0.5)
    return replies


def main(tries: int = 30, database_url: str = "", redis_url: str = "", port: int = 0) -> None:
    folder = Path(tempfile.mkdtemp(prefix="offbrand-side-"))
    deployment = Deployment(
        database_url=database_url or f"sqlite:///{folder / 'db.sqlite3'}",
        redis_url=redis_url,
        extra={"CACHE_URL": "", "OFFBRAND_TRUSTED_PROXIES": "1"},
    )
    server = Gunicorn(deployment, workers=2)
    if port:
        server.port = port
    try:
        deployment.prepare()
        deployment.manage(
            "shell",
            "-c",
            "from accounts.models import User\n"
            f"for n in range({tries}):\n"
            "    u = User(username=f'known{n}', email=f'known{n}@example.com', confirmed=True)\n"
            "    u.set_password('a long and unusual passphrase 42')\n"
            "    u.save()\n",
        )
        server.start()
        password = "a sturdy passphrase 9"
        names = [
            "reset, registered address",
            "reset, unknown address",
            "registration, taken address",
            "registration, new address",
        ]
        cases = {name: [] for name in names}
        for n in range(tries):  # interleaved, so drifting load weighs on every case alike
            forms = [
                ("/accounts/password/reset/", {"email": f"known{n}@example.com"}),
                ("/accounts/password/reset/", {"email": f"stranger{n}@example.com"}),
                (
                    "/accounts/register/",
                    {
                        "email": f"known{n}@example.com",
                        "username": f"taker{n}",
                        "password1": password,
                        "password2": password,
                    },
                ),
                (
                    "/accounts/register/",
                    {
                        "email": f"newcomer{n}@example.com",
                        "username": f"newcomer{n}",
                        "password1": password,
                        "password2": password,
                    },
                ),
            ]
            cases_this_round = list(enumerate(zip(names, forms, strict=True)))
            if n % 2:  # each case of a pair goes first half the time: no order effect
                cases_this_round = [cases_this_round[i] for i in (1, 0, 3, 2)]
            for index, (name, (path, data)) in cases_this_round:
                cases[name] += timed_posts(server, path, [data], first_ip=10 * index + n % 10)
        for name, replies in cases.items():
            print(f"{name:32} median {median_ms(replies):7.1f} ms over {len(replies)} tries")
        pairs = [("reset", 0, 1), ("registration", 2, 3)]
        medians = [median_ms(replies) for replies in cases.values()]
        for name, a, b in pairs:
            print(f"{name:32} difference {abs(medians[a] - medians[b]):5.1f} ms")
        print(avatar_bomb_cost(server, tries))
    finally:
        server.stop()
        deployment.destroy()


def avatar_bomb_cost(server, tries: int) -> str:
    """Median time of a profile POST carrying the 706-byte, 16-megapixel WebP."""
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4096, 4096), (200, 30, 30)).save(buffer, "WEBP", lossless=True)
    bomb = buffer.getvalue()
    browser = Client(server.url)
    assert browser.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD).status == 302
    times = []
    for n in range(min(tries, 10)):  # profile edits: 10 a minute per member
        _, token = browser.csrf_pair("/accounts/profile/")
        boundary = "offbrandbench"
        body = (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
                f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f'name="avatar_upload"; filename="bomb{n}.webp"\r\n'
                "Content-Type: image/webp\r\n\r\n"
            ).encode("latin1")
            + bomb
            + f"\r\n--{boundary}--\r\n".encode()
        )
        reply = browser.request(
            "POST",
            "/accounts/profile/",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            body=body,
        )
        assert reply.status == 200 and "too many pixels" in reply.text, reply.status
        times.append(reply.seconds)
    return (
        f"avatar {len(bomb)}-byte WebP at 4096x4096: refused, median "
        f"{statistics.median(times) * 1000:.1f} ms over {len(times)} uploads"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=30)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--redis-url", default="", help="default: the database cache")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    arguments = parser.parse_args()
    main(arguments.tries, arguments.database_url, arguments.redis_url, arguments.port)
