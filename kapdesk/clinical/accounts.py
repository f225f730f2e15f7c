"""Who may be at the keyboard: clinicians' accounts and the secrets they unlock with.

Pure checks (issue 14): an account's name, credentials and role, and whether a PIN or a
passphrase is one kapdesk accepts. Each returns the cleaned value or raises
ValidationError with a sentence the person can act on. The secret itself is never kept:
store/secrets.py turns it into an Argon2id hash.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.vitals import ValidationError

# The clinical roles of a KAP team; an administrator manages the accounts (and may also
# hold one of these roles: "manages accounts" is a separate yes/no).
ROLES = {
    "prescriber": "Prescriber",
    "nurse": "Nurse",
    "therapist": "Therapist",
    "administrator": "Administrator",
}
MIN_PIN_DIGITS = 6
MAX_PIN_DIGITS = 12
MIN_PASSPHRASE_CHARS = 10
MAX_SECRET_CHARS = 200
MAX_NAME_CHARS = 120
MAX_CREDENTIAL_CHARS = 40


@dataclass(frozen=True)
class AccountDetails:
    display_name: str
    credentials: str | None
    role: str


def clean_account(display_name: object, credentials: object, role: object) -> AccountDetails:
    if not isinstance(display_name, str) or not display_name.strip():
        raise ValidationError("name", "Type the clinician's name as it should appear in the log.")
    name = " ".join(display_name.split())
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError("name", f"The name is over {MAX_NAME_CHARS} characters; shorten it.")
    # Control characters, direction overrides and invisible ones refused, as in a patient's
    # name: every line of the log is signed with it (tamper QA: "Dana Test\u200b" beside
    # "Dana Test", and an escape sequence that cleared a terminal reading the export).
    clean_text(name, "The name", limit=MAX_NAME_CHARS, field="name", one_line=True)
    if credentials is not None and not isinstance(credentials, str):
        raise ValidationError("credentials", "Credentials must be text, such as MD or RN.")
    cred = " ".join(credentials.split()) if credentials else None
    if cred and len(cred) > MAX_CREDENTIAL_CHARS:
        raise ValidationError(
            "credentials", f"Credentials are over {MAX_CREDENTIAL_CHARS} characters; shorten them."
        )
    if cred:
        clean_text(cred, "The credentials", field="credentials", one_line=True)
    if role not in ROLES:
        raise ValidationError("role", "Choose a role: " + ", ".join(ROLES.values()) + ".")
    return AccountDetails(name, cred or None, str(role))


def secret_kind(secret: str) -> str:
    """ "pin" for digits only, else "passphrase"."""
    return "pin" if secret.isdigit() else "passphrase"


def check_new_secret(secret: object) -> str:
    """A PIN of 6 to 12 digits that is not a run or a repeat, or a passphrase of at least
    10 characters; returned as typed (never trimmed: it is compared exactly)."""
    if not isinstance(secret, str) or not secret:
        raise ValidationError("secret", "Type a PIN of at least 6 digits, or a passphrase.")
    if len(secret) > MAX_SECRET_CHARS:
        raise ValidationError("secret", f"That is over {MAX_SECRET_CHARS} characters; shorten it.")
    if secret_kind(secret) == "pin":
        if not secret.isascii():
            raise ValidationError("secret", "Use the digits 0 to 9 for a PIN.")
        if len(secret) < MIN_PIN_DIGITS:
            raise ValidationError(
                "secret",
                f"A PIN needs at least {MIN_PIN_DIGITS} digits; that one has {len(secret)}.",
            )
        if len(secret) > MAX_PIN_DIGITS:
            raise ValidationError(
                "secret", f"A PIN has at most {MAX_PIN_DIGITS} digits; use a passphrase instead."
            )
        if _guessable_pin(secret):
            raise ValidationError(
                "secret",
                "That PIN is among the first anyone would try (one digit repeated, or digits "
                "counting up or down); choose another.",
            )
        return secret
    if len(secret) < MIN_PASSPHRASE_CHARS:
        raise ValidationError(
            "secret",
            f"A passphrase needs at least {MIN_PASSPHRASE_CHARS} characters (or use a PIN of "
            f"{MIN_PIN_DIGITS} or more digits).",
        )
    if len(set(secret)) < 4:
        raise ValidationError(
            "secret", "That passphrase repeats too few characters; choose another."
        )
    return secret


def _guessable_pin(pin: str) -> bool:
    """One digit repeated, a run up or down, or a six-digit PIN of two digits (121212)."""
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in itertools.pairwise(digits)}
    return steps in ({0}, {1}, {-1}) or (len(set(digits)) <= 2 and len(pin) <= MIN_PIN_DIGITS)


def signature(display_name: str, credentials: str | None) -> str:
    """How a clinician is named in the log and the report: "Ana Ruiz, MD"."""
    return f"{display_name}, {credentials}" if credentials else display_name
