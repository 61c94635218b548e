"""One log line per failure, with its cause, and few of them during an outage;
one line, not a traceback, for a request refused for what it sent.

A dependency that is down (PostgreSQL, Redis, the mail server) makes every
request fail the same way. Without this filter each failure logs a full
traceback, several times (Django's request logger, then ours): megabytes in
seconds that hide everything else. Here a record caused by an unavailable
dependency becomes one line naming the cause, and the same line (same
logger, same error) is written at most once per `window` seconds, with the
count of those left out. Other records join in with `extra={"outage": key}`.
"""

import logging
import smtplib
import threading
import time

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http.multipartparser import MultiPartParserError

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError:  # pragma: no cover - redis is a requirement
    RedisConnectionError = RedisTimeoutError = OSError

UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    smtplib.SMTPException,
)


def unavailable_error(record: logging.LogRecord) -> BaseException | None:
    """The outage behind a record: its exception, or an exception among its arguments."""
    if record.exc_info and isinstance(record.exc_info[1], UNAVAILABLE):
        return record.exc_info[1]
    args = record.args if isinstance(record.args, tuple) else ()
    return next((arg for arg in args if isinstance(arg, UNAVAILABLE)), None)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


class OutageFilter(logging.Filter):
    def __init__(self, window: float = 10.0) -> None:
        super().__init__()
        self.window = window
        self._seen: dict[tuple, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        error = unavailable_error(record)
        answered_503 = record.name == "django.request" and getattr(record, "status_code", 0) == 503
        if answered_503 and error is None:
            return False  # a 503 we answered on purpose: its cause has its own line
        outage = getattr(record, "outage", None)  # extra={"outage": ...}: same rules
        if error is None and outage is None:
            return True
        message = record.getMessage()
        if record.exc_info and error is not None:
            message = f"{message}: {type(error).__name__}: {first_line(error)}"
        cause = (type(error).__name__, first_line(error)) if error is not None else outage
        key = (record.name, record.levelno, cause)
        now = time.monotonic()
        with self._lock:
            last, left_out = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.window:
                self._seen[key] = (last, left_out + 1)
                return False
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = (now, 0)
        if left_out:
            message += f" [and {left_out} more like this in the last {now - last:.0f} s]"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = None
        return True


# What a client sent and Django answered 400 for: a body too large, with too many
# fields, unreadable (charset, multipart framing), a Host not ours, a path outside
# the media folder (`SuspiciousOperation` covers every `django.security` kind).
REFUSED = (BadRequest, MultiPartParserError, SuspiciousOperation)

# Every kind Django logs on `django.security.<kind>` (the logger a filter goes on).
SECURITY_LOGGERS = [
    "SuspiciousOperation",
    "DisallowedHost",
    "DisallowedRedirect",
    "SuspiciousFileOperation",
    "SuspiciousMultipartForm",
    "RequestDataTooBig",
    "TooManyFieldsSent",
    "TooManyFilesSent",
    "DisallowedModelAdminLookup",
    "DisallowedModelAdminToField",
    "InvalidSessionKey",
    "SuspiciousSession",
]


def escaped(text: str, limit: int = 300) -> str:
    """Client-sent text made safe for one log line (no newline can forge another)."""
    return text.encode("unicode_escape").decode("ascii")[:limit]


class RefusedRequestFilter(logging.Filter):
    """A request refused for what it sent is one warning line: method, path, reason.

    Django logs each with a full traceback (an error for the `django.security`
    ones), which says nothing about our code: a client sending such requests
    in a loop would fill the log and bury everything else. A 403 keeps
    Django's one line ("Forbidden (Permission denied): path"), without the
    traceback. Our own failures (500s) keep their traceback. Put on the
    loggers themselves (settings `LOGGING`), so every handler gets the short
    line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, PermissionDenied):  # Django's own line, without the traceback
            record.exc_info = record.exc_text = None
            return True
        if not isinstance(error, REFUSED) or getattr(record, "status_code", 400) >= 500:
            return True
        request = getattr(record, "request", None)
        record.msg = "Refused %s %s: %s: %s"
        record.args = (
            escaped(getattr(request, "method", None) or "-", 20),
            escaped(getattr(request, "path", None) or "-"),
            type(error).__name__,
            escaped(first_line(error)),
        )
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = None
        return True
