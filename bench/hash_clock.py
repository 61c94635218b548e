"""The password hasher's CPU, counted inside a server's workers (`bench/run.py`).

A sign-in's worker CPU less the hash's is what the rest of the sign-in
costs. The hash timed in the benchmark's own process is not the hash in the
workers: there two hashes run at once, one per core, share the caches and
the memory bus (19 MiB each), and each takes more CPU than one alone.

With `BENCH_HASH_CLOCK` naming a directory, `bench.apps` wraps the Argon2
hasher's `verify`, `encode` and `harden_runtime` in each worker: the thread
CPU time spent inside them is added up and written, with the count, to
`<directory>/<pid>` after each call (one `pwrite`). `read()` sums the workers' files.
The clock's own few microseconds a call stay in the worker CPU besides the
hash, so they count against the sign-in, not for it.
"""

import os
import time
from pathlib import Path

VARIABLE = "BENCH_HASH_CLOCK"


class HashClock:
    def __init__(self, directory: Path) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.directory = directory
        self.fd: int | None = None

    def record(self, seconds: float) -> None:
        self.seconds += seconds
        self.calls += 1
        if self.fd is None:  # opened in the worker (the app is loaded after the fork)
            self.fd = os.open(self.directory / str(os.getpid()), os.O_WRONLY | os.O_CREAT, 0o644)
        os.pwrite(self.fd, f"{self.seconds:.9f} {self.calls:>12}\n".encode(), 0)


def install() -> None:
    """Wrap the hasher in this process when `BENCH_HASH_CLOCK` is set."""
    directory = os.environ.get(VARIABLE)
    if not directory:
        return
    from django.contrib.auth.hashers import Argon2PasswordHasher

    clock = HashClock(Path(directory))
    for name in ("verify", "encode", "harden_runtime"):
        original = getattr(Argon2PasswordHasher, name)

        def timed(*args, _original=original, **kwargs):
            start = time.thread_time()
            try:
                return _original(*args, **kwargs)
            finally:
                clock.record(time.thread_time() - start)

        setattr(Argon2PasswordHasher, name, timed)


def read(directory: Path, pids) -> tuple[float, int]:
    """(CPU seconds inside the hasher, calls) so far, summed over the workers `pids`."""
    seconds, calls = 0.0, 0
    for pid in pids:
        path = directory / str(pid)
        fields = path.read_text().split() if path.exists() else ()
        if len(fields) == 2:
            seconds += float(fields[0])
            calls += int(fields[1])
    return seconds, calls
