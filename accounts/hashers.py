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

    def must_update(self, encoded):
        """Django's answer, worked out once per shape of hash: it depends on the
        parameters and on the salt's and the hash's lengths, never on the salt or
        hash themselves, and decoding the whole hash (`argon2.extract_parameters`)
        after every sign-in cost about 0.08 M instructions (issue 16)."""
        head, _, hash_part = encoded.rpartition("$")
        parameters, _, salt = head.rpartition("$")
        own = (self.time_cost, self.memory_cost, self.parallelism)
        shape = (type(self), own, parameters, len(salt), len(hash_part))
        answer = _MUST_UPDATE.get(shape)
        if answer is None:
            answer = super().must_update(encoded)
            if len(_MUST_UPDATE) >= MUST_UPDATE_KEPT:
                _MUST_UPDATE.clear()
            _MUST_UPDATE[shape] = answer
        return answer


# (hasher class, its parameters, a hash's parameters, salt length, hash length) ->
# whether such a hash is upgraded at sign-in. Cleared when full.
_MUST_UPDATE: dict[tuple, bool] = {}
MUST_UPDATE_KEPT = 64
