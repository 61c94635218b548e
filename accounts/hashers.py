"""Password hashing parameters, chosen deliberately.

Argon2id with OWASP's first recommended setting (19 MiB of memory, 2
passes, 1 lane): about 17 ms of CPU a hash on the 2-core reference machine
(bench/README.md), so two workers verify ~115 sign-ins a second, while an
attacker's GPU is held back by the memory cost. Django's default (100 MiB,
8 lanes) measured about seven times that per sign-in: a denial-of-service
lever on a small server, for little more strength. Stored hashes with
other parameters are upgraded at the member's next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OffbrandArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
