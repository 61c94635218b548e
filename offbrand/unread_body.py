"""An upload answered before its body was read still shows its answer (issue 11).

A refused upload (a limit used up, the member's previous upload still running, the
remembered refusal of `offbrand.refusal_gate`) is answered before its body is read.
gunicorn's sync worker then half-closes and reads at most 64 KB of what the client is
still sending (`util.close_graceful`) before it closes: with megabytes still coming,
the kernel answers the client with a reset, and a browser that sends its whole body
before it reads shows "connection reset" instead of the 429 page (a proxy in front
may answer 502). Here, once the answer is written, the connection is half-closed and
handed to one thread per process that reads and throws away the rest of the declared
body, as a lingering close does (nginx's `lingering_close`), then closes it: the
client reads the answer whether it reads early or late, and the worker goes back to
its next request at once instead of waiting for the client to finish sending.

Bounded: only a POST whose declared length carries a picture (`carries_file`, at most
the upload limit: anything larger is refused by its length and reset, as before);
never more than the declared length; at most `DRAIN_SECONDS` per connection
(gunicorn's own linger) and `MAX_DRAINING` connections at once per process, past
which a connection is closed at once, as before; and at most `DRAIN_RATE` bytes a
second per process, all connections together. The rate is what keeps a member who
uploads in a loop from costing everyone else: read at the loopback's speed, each
refusal let the client send its next picture at once, and two such loops (hundreds of
4 MB refusals a second) took most of a core in copies and requests. Read at 16 MiB/s,
faster than a browser's uplink, an honest refused upload is read at its own pace
while a loop is held to a few turns a second by TCP's own flow control (the socket's
receive buffer is fixed, so the kernel does not buffer megabytes for it either).
Many loops at once share the rate: a connection not read out within `DRAIN_SECONDS` is
closed, as gunicorn closed it before. It needs the worker's socket (`gunicorn.socket`)
and one request per connection (the sync worker); anywhere else it changes nothing.
"""

import collections
import contextlib
import os
import selectors
import socket
import threading
import time

from offbrand.middleware import carries_file, declared_length

DRAIN_SECONDS = 2.0  # as gunicorn's close_graceful
MAX_DRAINING = 64
CHUNK = 1024 * 1024  # one buffer per process, reused: the bytes are never looked at
WAKE_BYTES = 256 * 1024
STEP = WAKE_BYTES  # the least read once the allowance has run out
DRAIN_RATE = 16 * 1024 * 1024  # bytes a second per process: see the module docstring
# The draining socket's receive buffer, fixed (no autotuning): what a client can have
# in flight beyond what the rate lets through.
RECEIVE_BUFFER = 2 * WAKE_BYTES
# Linux's TCP discards what MSG_TRUNC asks for without copying it out; elsewhere the
# flag is not given and the bytes are copied into the buffer.
DISCARD = socket.MSG_TRUNC if os.uname().sysname == "Linux" else 0


class DrainUnreadUpload:
    """WSGI middleware: see the module docstring."""

    def __init__(self, app):
        self.app = app
        self.drainer = Drainer()

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
        return Drained(answer, lambda: self.drainer.take(client, declared_length(environ)))


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


class Drainer:
    """One thread per process (started on first use, again after a fork) that reads
    what the clients of answered uploads still send, until each closes, has sent its
    declared length, or has had `DRAIN_SECONDS`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.arrived: collections.deque = collections.deque()
        self.draining = 0

    def take(self, client: socket.socket, declared: int) -> None:
        """Half-close `client` (the answer is sent) and drain it in the thread; gunicorn
        then finds its socket detached and has nothing left to close."""
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:  # the client has gone: gunicorn closes it
            return
        with self.lock:
            if self.pid != os.getpid():
                self.start()
            if self.draining >= MAX_DRAINING:
                return  # gunicorn closes it, as before
            self.draining += 1
            self.arrived.append((client.detach(), declared))
        with contextlib.suppress(BlockingIOError):  # a wake-up is already waiting
            os.write(self.wake_w, b"\0")

    def start(self) -> None:
        self.pid = os.getpid()
        self.arrived.clear()
        self.draining = 0
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        threading.Thread(target=self.run, name="drain-unread-uploads", daemon=True).start()

    def run(self) -> None:
        buffer = memoryview(bytearray(CHUNK))
        allowance = Allowance(DRAIN_RATE, burst=CHUNK)
        selector = selectors.DefaultSelector()
        selector.register(self.wake_r, selectors.EVENT_READ)
        deadlines: dict[socket.socket, float] = {}
        left: dict[socket.socket, int] = {}

        def done(client: socket.socket) -> None:
            selector.unregister(client)
            del deadlines[client], left[client]
            client.close()
            with self.lock:
                self.draining -= 1

        while True:
            wait = min(deadlines.values(), default=None)
            if wait is not None:
                wait = max(wait - time.monotonic(), 0)
            if allowance.empty():  # nothing is read until the allowance refills
                wait = allowance.refill_in() if wait is None else min(wait, allowance.refill_in())
                time.sleep(wait)
                wait = 0
            for key, _ in selector.select(wait):
                if key.fileobj == self.wake_r:
                    os.read(self.wake_r, 4096)
                    while self.arrived:
                        fd, declared = self.arrived.popleft()
                        client = socket.socket(fileno=fd)
                        client.setblocking(False)
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
                        # Woken once per WAKE_BYTES (or at the end), not per segment.
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, WAKE_BYTES)
                        deadlines[client] = time.monotonic() + DRAIN_SECONDS
                        left[client] = declared
                        selector.register(client, selectors.EVENT_READ)
                    continue
                client = key.fileobj
                allowed = allowance.take(min(CHUNK, left[client]))
                if not allowed:
                    continue
                try:
                    received = client.recv_into(buffer, allowed, DISCARD)
                except BlockingIOError:
                    received = -1
                except OSError:
                    received = 0
                allowance.give_back(allowed - max(received, 0))
                if received < 0:
                    continue
                left[client] -= received
                if not received or left[client] <= 0:
                    done(client)
            now = time.monotonic()
            for client in [c for c, deadline in deadlines.items() if deadline <= now]:
                done(client)


class Allowance:
    """A token bucket: `rate` bytes a second, at most `burst` at once."""

    def __init__(self, rate: int, *, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), time.monotonic()

    def refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def take(self, wanted: int) -> int:
        """Up to `wanted` bytes, or none while less than STEP is left: reads of a few
        bytes each, as fast as the clock refills them, would cost more than they save."""
        self.refill()
        if self.tokens < min(wanted, STEP):
            return 0
        taken = int(min(wanted, self.tokens))
        self.tokens -= taken
        return taken

    def give_back(self, unused: int) -> None:
        self.tokens += unused

    def empty(self) -> bool:
        self.refill()
        return self.tokens < STEP

    def refill_in(self) -> float:
        """Seconds until STEP bytes can be read again."""
        return max(STEP - self.tokens, 0) / self.rate
