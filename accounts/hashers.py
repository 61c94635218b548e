"""Password hashing parameters, chosen deliberately.

Argon2id with OWASP's first recommended setting (19 MiB of memory, 2
passes, 1 lane): about 43 ms a hash on one core of the 2-core reference
machine, so it verifies ~45 sign-ins a second, while an attacker's GPU is
held back by the memory cost. Django's default (100 MiB, 8 lanes) measured
316 ms there: seven times the cost per sign-in, a denial-of-service lever. Stored hashes with
other parameters are upgraded at the member's next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OffbrandArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
