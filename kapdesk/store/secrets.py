"""A clinician's PIN or passphrase as an Argon2id hash, and the check of a typed one.

The secret itself is never kept, logged or written; only the hash, in PHC form, inside the
encrypted record (issue 14). The parameters are OWASP's first Argon2id choice (46 MiB,
one pass, one lane: ~0.1 s here): the hash is inside SQLCipher, so it is reached only by
someone who already holds the record key, and the lock screen's growing delay governs
guessing at the keyboard.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

MEMORY_KIB = 47_104
ITERATIONS = 1
LANES = 1
SALT_BYTES = 16
HASH_BYTES = 32


def hash_secret(secret: str) -> str:
    kdf = Argon2id(
        salt=os.urandom(SALT_BYTES),
        length=HASH_BYTES,
        iterations=ITERATIONS,
        lanes=LANES,
        memory_cost=MEMORY_KIB,
    )
    return kdf.derive_phc_encoded(secret.encode("utf-8"))


def secret_matches(encoded: str, secret: str) -> bool:
    """Whether ``secret`` is the one ``encoded`` was made from (a constant-time compare
    inside cryptography); a malformed hash matches nothing."""
    if not encoded.startswith("$argon2id$"):
        return False
    try:
        Argon2id.verify_phc_encoded(secret.encode("utf-8"), encoded)
    except (InvalidKey, ValueError):
        return False
    return True
