"""An upload answered before its body was read still shows its answer (issue 11).

A refused upload (a limit used up, the member's previous upload still running, the
remembered refusal of `offbrand.refusal_gate`) is answered before its body is read.
gunicorn's sync worker then half-closes and reads at most 64 KB of what the client is
still sending (`util.close_graceful`) before it closes: with megabytes still coming,
the kernel answers the client with a reset, and a browser that sends its whole body
before it reads shows "connection reset" instead of the 429 page (a proxy in front
may answer 502). Here, once the answer is written, the rest of the declared body is
read and thrown away, as a lingering close does (nginx's `lingering_close`), then the
connection is closed: the client reads the answer whether it reads early or late.

Bounded: only a POST whose declared length carries a picture (`carries_file`, at most
the upload limit: anything larger is refused by its length and reset, as before);
never more than the declared length; at most `DRAIN_SECONDS` of a worker's time
(gunicorn's own linger), after which the connection is closed as before. It needs the
worker's socket (`gunicorn.socket`) and one request per connection (the sync worker);
anywhere else it changes nothing.
"""

import socket
import time

from offbrand.middleware import carries_file, declared_length

DRAIN_SECONDS = 2.0  # as gunicorn's close_graceful
CHUNK = 256 * 1024  # one buffer per worker, reused: the bytes are never looked at


class DrainUnreadUpload:
    """WSGI middleware: see the module docstring."""

    def __init__(self, app):
        self.app = app
        self.buffer = memoryview(bytearray(CHUNK))

    def __call__(self, environ, start_response):
        answer = self.app(environ, start_response)
        client = environ.get("gunicorn.socket")
        if (
            client is None
            or environ.get("wsgi.multithread", True)
            or environ.get("REQUEST_METHOD") != "POST"
            or not carries_file(environ)
        ):
            return answer
        return Drained(answer, lambda: self.drain(client, declared_length(environ)))

    def drain(self, client: socket.socket, declared: int) -> None:
        """After the answer: FIN, then read what the client still sends until it closes
        (at most `declared` bytes, `DRAIN_SECONDS`), then close."""
        try:
            client.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + DRAIN_SECONDS
            left = declared
            while left > 0:
                client.settimeout(max(deadline - time.monotonic(), 0.001))
                received = client.recv_into(self.buffer)
                if not received:
                    break
                left -= received
        except OSError:  # a timeout, a reset: the client has gone or is too slow
            pass
        finally:
            client.close()  # gunicorn's close_graceful then finds it closed


class Drained:
    """The application's answer, drained after it is sent (the server calls close())."""

    def __init__(self, answer, drain):
        self.answer, self.drain = answer, drain

    def __iter__(self):
        return iter(self.answer)

    def close(self) -> None:
        try:
            close = getattr(self.answer, "close", None)
            if close is not None:
                close()
        finally:
            self.drain()
