"""Passphrases from the environment (automation) or the terminal. The GUI has its own prompt."""

from __future__ import annotations

import os
import sys
from getpass import getpass

from kapdesk.store.errors import StoreError
from kapdesk.store.passphrases import passphrase_weakness
from kapdesk.store.vault import PassphraseRequest

PASSPHRASE_VARIABLE = "KAPDESK_PASSPHRASE"


def from_environment(request: PassphraseRequest) -> str | None:
    """$KAPDESK_PASSPHRASE once; after a refusal there is nothing else to offer."""
    if request.error is not None:
        return None
    value = os.environ.get(PASSPHRASE_VARIABLE)
    if value is None:
        return None
    # Said as what it is, not "does not unlock" or a crash (tamper QA).
    if not value:
        raise StoreError(
            f"{PASSPHRASE_VARIABLE} is set but empty, so there is no passphrase to try. Set "
            "it to the record's passphrase, or unset it to be asked; nothing was changed."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(
            f"{PASSPHRASE_VARIABLE} holds bytes that are not text in UTF-8, so it cannot be "
            "the record's passphrase. Set it again from a UTF-8 terminal, or unset it to be "
            "asked; nothing was changed."
        ) from None
    return value


def from_terminal(request: PassphraseRequest) -> str | None:
    """$KAPDESK_PASSPHRASE if set, else a prompt when a person is at the terminal."""
    if PASSPHRASE_VARIABLE in os.environ:
        return from_environment(request)
    if not sys.stdin.isatty():
        return None
    if request.error:
        print(request.error, file=sys.stderr)
    try:
        if not request.creating:
            return getpass("Passphrase for this kapdesk record: ")
        return _new_passphrase(
            "No keyring is available, so this record will be protected by a passphrase. "
            "Without it the record cannot be opened: keep it safe.",
            "New passphrase: ",
        )
    except (EOFError, KeyboardInterrupt):
        return None


def _new_passphrase(explanation: str, prompt: str) -> str:
    """Asked twice, until both entries agree."""
    print(explanation, file=sys.stderr)
    while True:
        first = getpass(prompt)
        weakness = passphrase_weakness(first)
        if weakness is not None:
            print(weakness, file=sys.stderr)
            continue
        if getpass("Type it again: ") == first:
            return first
        print("The two entries differ; try again.", file=sys.stderr)


RECOVERY_VARIABLE = "KAPDESK_RECOVERY_PASSPHRASE"


def recovery_passphrase(request: PassphraseRequest) -> str | None:
    """The passphrase that will protect a portable backup: $KAPDESK_RECOVERY_PASSPHRASE or
    asked twice at the terminal."""
    if RECOVERY_VARIABLE in os.environ:
        return None if request.error else os.environ[RECOVERY_VARIABLE]
    if not sys.stdin.isatty():
        return None
    if request.error:
        print(request.error, file=sys.stderr)
    try:
        return _new_passphrase(
            "Choose a recovery passphrase for this backup. Keep it apart from the backup: "
            "anyone with both can open the record.",
            "Recovery passphrase: ",
        )
    except (EOFError, KeyboardInterrupt):
        return None
