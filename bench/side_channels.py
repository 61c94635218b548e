"""Timing and cost figures of issue 11, against the site in production mode.

    .venv/bin/python bench/side_channels.py [--tries 30]

Serves the embedded default (SQLite, the database cache, DEBUG off, the real
Argon2 hasher) with gunicorn, 2 workers, on a free port of 127.0.0.1, and
prints the median of `--tries` requests per case:

- password reset for a registered address vs an unknown one;
- registration with a taken address vs a new one;
- an avatar upload of a 706-byte lossless WebP declaring 4096 x 4096.

Every try comes from its own client address (one trusted proxy, a fresh
X-Forwarded-For), so no rate limit answers in place of the page.
"""

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
        time.sleep(0.2)  # let work queued after the answer finish before the next try
    return replies


def main(tries: int = 30) -> None:
    folder = Path(tempfile.mkdtemp(prefix="offbrand-side-"))
    deployment = Deployment(
        database_url=f"sqlite:///{folder / 'db.sqlite3'}",
        redis_url="",
        extra={"CACHE_URL": "", "OFFBRAND_TRUSTED_PROXIES": "1"},
    )
    server = Gunicorn(deployment, workers=2)
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
            for index, (name, (path, data)) in enumerate(zip(names, forms, strict=True)):
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
    main(int(sys.argv[sys.argv.index("--tries") + 1]) if "--tries" in sys.argv else 30)
