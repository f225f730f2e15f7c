"""Passphrases: how strong a new one must be, and how a key is derived from one (Argon2id).

The key-derivation settings read from a key file are bounded here: the file is
one anyone can edit, and unbounded settings could hang or exhaust the laptop.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Any

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

MIN_PASSPHRASE_CHARS = 12

# OWASP Password Storage Cheat Sheet, Argon2id: m=46 MiB, t=1, p=1 is one of the
# equivalent recommended settings (about 60 ms here, 2 cores).
ARGON2_MEMORY_KIB = 47_104
ARGON2_ITERATIONS = 1
ARGON2_LANES = 1
# What a key file may ask for. Below: weaker than OWASP's smallest setting (19 MiB);
# above: a key file that would hang or exhaust the laptop (1 GiB x 8 passes is about
# 10 s here). The parameters come from a file anyone can edit, so they are bounded.
KDF_LIMITS = {
    "memory_kib": (19_456, 1_048_576),
    "iterations": (1, 8),
    "lanes": (1, 16),
}
SALT_BYTES = (16, 64)
# zxcvbn's estimate of guesses an attacker needs. Each guess costs one Argon2id
# derivation (about 60 ms on a clinic laptop, far less on a GPU rig), so a
# passphrase must be "very unguessable": zxcvbn's score 4, 10^10 guesses or more.
MIN_PASSPHRASE_GUESSES_LOG10 = 10.0


def passphrase_check(kek: bytes) -> str:
    """Proves a passphrase right without the wrapped key: a damaged key file is told apart."""
    return hmac.new(kek, b"kapdesk passphrase check v1", hashlib.sha256).hexdigest()[:32]


def derive_key(passphrase: str, salt: bytes, kdf: dict[str, Any]) -> bytes:
    normalised = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Argon2id(
        salt=salt,
        length=32,
        iterations=int(kdf["iterations"]),
        lanes=int(kdf["lanes"]),
        memory_cost=int(kdf["memory_kib"]),
    ).derive(normalised)


def passphrase_weakness(text: str) -> str | None:
    """Why a new passphrase is too easy to guess, in a sentence; None if it is strong enough."""
    if len(text) < MIN_PASSPHRASE_CHARS:
        return (
            f"Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters; a short "
            "sentence of uncommon words works well."
        )
    # Imported here: its word lists hold ~13 MiB resident, and only a new passphrase is
    # judged, so they are not loaded at every start (issue 10).
    from zxcvbn import zxcvbn

    # zxcvbn refuses more than 72 characters; a passphrase that long is not guessable anyway.

    estimate = zxcvbn(text[:72], user_inputs=["kapdesk", "ketamine", "clinic", "patient"])
    if float(estimate["guesses_log10"]) >= MIN_PASSPHRASE_GUESSES_LOG10:
        return None
    feedback = estimate["feedback"]
    hints = " ".join(
        part for part in [feedback.get("warning"), *feedback.get("suggestions", [])] if part
    )
    return (
        "That passphrase is too easy to guess for a record of patients' data"
        + (f": {hints}" if hints else ".")
        + " A sentence of four or more uncommon words works well."
    )
