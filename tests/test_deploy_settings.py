"""Production settings: the deploy checks pass, secrets are required, headers are sent."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "".join(
        secrets.choice(string.ascii_letters + string.digits + "!@#%^&*(-_=+)") for _ in range(60)
    ),
    "ALLOWED_HOSTS": "offbrand.example.com",
}


def run(args, **overrides) -> subprocess.CompletedProcess:
    """Run Python in a fresh process at the repository root, with `overrides` in its env."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["DJANGO_SETTINGS_MODULE"] = "offbrand.settings"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(**overrides) -> str:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **overrides)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output
    return output


def test_deploy_checks_pass_with_production_settings():
    # Only DEBUG, SECRET_KEY and ALLOWED_HOSTS set: mail must not fall back to the
    # console backend (mail.E001) when DEBUG is off.
    deploy_check(**PRODUCTION, EMAIL_URL=None, ANYMAIL_ESP=None)


def test_deploy_checks_pass_with_production_settings_and_smtp():
    deploy_check(**PRODUCTION, EMAIL_URL="smtp://mailer:secret@smtp.example.com:587/?tls=True")


def test_without_a_secret_key_production_refuses_to_start():
    result = run(["manage.py", "check"], **{**PRODUCTION, "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stdout + result.stderr


def fresh_settings(*names, **overrides) -> dict:
    """The named settings as a fresh process with `overrides` in its env computes them."""
    script = (
        "import json, sys, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({name: getattr(s, name) for name in sys.argv[1:]}))"
    )
    result = run(["-c", script, *names], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_hsts_is_on():
    values = fresh_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        **PRODUCTION,
    )
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


def test_healthz_is_exempt_from_the_https_redirect_for_load_balancers():
    values = fresh_settings("SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", **PRODUCTION)
    assert values == {"SECURE_SSL_REDIRECT": True, "SECURE_REDIRECT_EXEMPT": ["^healthz$"]}


def test_an_anymail_esp_is_chosen_by_environment_variables():
    values = fresh_settings(
        "MAILERS",
        "ANYMAIL",
        ANYMAIL_ESP="postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="token-123",
    )
    assert values["MAILERS"]["default"]["BACKEND"] == "anymail.backends.postmark.EmailBackend"
    assert values["ANYMAIL"]["POSTMARK_SERVER_TOKEN"] == "token-123"


def test_pages_carry_the_security_headers(client, db):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = {part.strip().split()[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_a_permissions_policy_that_turns_unused_features_off(client, db):
    policy = client.get("/").headers["Permissions-Policy"]
    features = dict(part.strip().split("=", 1) for part in policy.split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()"


def test_env_example_copied_to_env_gives_a_working_local_site(tmp_path):
    """`cp .env.example .env`: its values (not the commented production ones) migrate and serve."""
    parsed = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            parsed[name.strip()] = value.strip()
    assert parsed["DEBUG"] == "true"
    cleared = dict.fromkeys(
        ["REDIS_URL", "CACHE_URL", "EMAIL_URL", "ANYMAIL_ESP", "TASKS_BACKEND", "SECRET_KEY"]
    )
    env = {**cleared, **parsed, "DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}"}
    migrate = run(["manage.py", "migrate", "--noinput"], **env)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    script = (
        "import django; django.setup(); from django.test import Client; "
        "client = Client(HTTP_HOST='127.0.0.1:8000'); "
        "print(*(client.get(url).status_code for url in ('/', '/accounts/register/')))"
    )
    served = run(["-c", script], **env)
    assert served.stdout.split()[-2:] == ["200", "200"], served.stdout + served.stderr


def test_check_deploy_warns_when_the_cache_is_per_process():
    result = run(
        ["manage.py", "check", "--deploy"],
        **PRODUCTION,
        REDIS_URL=None,
        CACHE_URL="locmemcache://",
    )
    assert "offbrand.W001" in result.stdout + result.stderr
    assert "per process" in result.stdout + result.stderr
