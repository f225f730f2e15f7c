"""The one module that owns the database key.

The key is 32 random bytes. It lives either in the operating system's keyring
(read back after writing, because the null backend accepts and discards), or,
where no working keyring exists, wrapped with AES-256-GCM under a key derived
from the clinician's passphrase with Argon2id. Either way the key file
``vault.json`` beside the database holds no secret in the clear and no patient
detail. There is no plaintext fallback: without a keyring or a passphrase,
kapdesk does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kapdesk.store.errors import (
    DamagedKeyFileError,
    KeyMissingError,
    MissingFileError,
    PassphraseUnavailableError,
    WeakPassphraseError,
    WrongKeyError,
    WrongPassphraseError,
)
from kapdesk.store.fileio import read_small_file, write_file_atomically
from kapdesk.store.passphrases import (
    ARGON2_ITERATIONS,
    ARGON2_LANES,
    ARGON2_MEMORY_KIB,
    KDF_LIMITS,
    SALT_BYTES,
    derive_key,
    passphrase_check,
    passphrase_weakness,
)

if TYPE_CHECKING:
    import keyring.backend

log = logging.getLogger(__name__)

VAULT_FILE = "vault.json"
VAULT_FORMAT = "kapdesk-vault/1"
KEYRING_SERVICE = "kapdesk"
KEY_BYTES = 32


@dataclass(frozen=True)
class PassphraseRequest:
    """What the passphrase prompt should ask: a new one (twice) or the existing one."""

    creating: bool
    error: str | None = None


# Returns the passphrase, or None when the user cancels (or has nothing more to offer).
PassphraseSource = Callable[[PassphraseRequest], str | None]


def no_passphrase(request: PassphraseRequest) -> str | None:
    return None


def usable_keyring() -> keyring.backend.KeyringBackend | None:
    """The system keyring, or None where only a failing, null or plaintext backend exists."""
    # Imported when a keyring is wanted: a passphrase-protected record never loads it
    # (with its entry points, about 50 ms of start-up).
    import keyring

    backend = keyring.get_keyring()
    candidates = list(getattr(backend, "backends", [backend]))
    for candidate in candidates:
        module = type(candidate).__module__
        if module.startswith(("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")):
            continue  # keyrings.alt stores secrets in plain or weakly wrapped files: never
        if getattr(candidate, "priority", 0) <= 0:
            continue
        found: keyring.backend.KeyringBackend = candidate
        return found
    return None


def _key_check(key: bytes) -> str:
    return hmac.new(key, b"kapdesk key check v1", hashlib.sha256).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


class KeyVault:
    """The key file of one data folder and the way to unlock it."""

    def __init__(self, folder: Path, document: dict[str, Any]) -> None:
        self.folder = folder
        self._doc = document
        # The passphrase check value, for a key file written before kapdesk kept one.
        self._missing_check: str | None = None

    @property
    def path(self) -> Path:
        return self.folder / VAULT_FILE

    @property
    def database_id(self) -> str:
        return str(self._doc["database_id"])

    @property
    def method(self) -> str:
        return str(self._doc["method"])

    @property
    def document(self) -> dict[str, Any]:
        return dict(self._doc)

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / VAULT_FILE).exists()

    @classmethod
    def load(cls, folder: Path) -> KeyVault:
        path = folder / VAULT_FILE
        try:
            raw = read_small_file(path, limit=64 * 1024)
        except FileNotFoundError:
            raise MissingFileError(
                f"The key file {VAULT_FILE} is missing from {folder}. Without it the record "
                "cannot be unlocked: restore the folder from a backup. Nothing was changed."
            ) from None
        except OSError:
            raise MissingFileError(
                f"The key file {path} is not a key file (a folder, a link, a device or a file "
                "far too large stands in its place). Restore it from a backup; nothing was "
                "changed."
            ) from None
        return cls(folder, parse_vault(raw, str(path)))

    @classmethod
    def create(
        cls,
        folder: Path,
        passphrase: PassphraseSource,
        *,
        use_keyring: bool = True,
    ) -> tuple[KeyVault, bytes]:
        """Make a new key, keep it in the keyring or under a passphrase, and write vault.json."""
        key = secrets.token_bytes(KEY_BYTES)
        database_id = str(uuid.uuid4())
        doc: dict[str, Any] = {"format": VAULT_FORMAT, "database_id": database_id}
        backend = usable_keyring() if use_keyring else None
        if backend is not None and _store_in_keyring(backend, database_id, key):
            doc.update(method="keyring", key_check=_key_check(key))
        else:
            doc.update(_wrap_with_new_passphrase(key, database_id, passphrase))
        vault = cls(folder, doc)
        vault.write()
        return vault, key

    def portable_document(self, key: bytes, recovery: PassphraseSource) -> dict[str, Any]:
        """This key file as a passphrase-protected one, for a backup restorable anywhere.

        A keyring-protected record's key never leaves this computer otherwise; the
        copy in the backup is wrapped under the recovery passphrase, never in the clear.
        """
        doc: dict[str, Any] = {"format": VAULT_FORMAT, "database_id": self.database_id}
        doc.update(_wrap_with_new_passphrase(key, self.database_id, recovery))
        return doc

    def write(self) -> None:
        data = json.dumps(self._doc, indent=2, sort_keys=True).encode("utf-8")
        write_file_atomically(self.path, data)

    def unlock(self, passphrase: PassphraseSource) -> bytes:
        if self.method == "keyring":
            return self._unlock_keyring()
        return self._unlock_passphrase(passphrase)

    def _unlock_keyring(self) -> bytes:
        backend = usable_keyring()
        if backend is None:
            raise KeyMissingError()
        try:
            stored = backend.get_password(KEYRING_SERVICE, _keyring_user(self.database_id))
        except Exception as exc:  # noqa: BLE001 - keyring backends raise their own types
            log.warning("keyring read failed: %s", type(exc).__name__)
            raise KeyMissingError() from None
        if stored is None:
            raise KeyMissingError()
        try:
            key = bytes.fromhex(stored)
        except ValueError:
            raise WrongKeyError() from None
        if len(key) != KEY_BYTES or not hmac.compare_digest(
            _key_check(key), str(self._doc.get("key_check", ""))
        ):
            raise WrongKeyError()
        return key

    def _unlock_passphrase(self, source: PassphraseSource) -> bytes:
        error: str | None = None
        for _attempt in range(5):
            text = source(PassphraseRequest(creating=False, error=error))
            if text is None:
                if error is not None:
                    raise WrongPassphraseError()
                raise PassphraseUnavailableError(
                    "This record is protected by a passphrase and none was given. Enter it "
                    "at the prompt, or set KAPDESK_PASSPHRASE for unattended use; nothing "
                    "was changed."
                )
            try:
                return self.unwrap(text)
            except WrongPassphraseError as exc:
                error = str(exc)
        raise WrongPassphraseError()

    def unwrap(self, passphrase: str) -> bytes:
        doc = self._doc
        recorded = doc.get("settings_check")
        if recorded is not None and not hmac.compare_digest(settings_check(doc), str(recorded)):
            # Told apart from a wrong passphrase: a changed setting (1 iteration made 2)
            # was refused as "That passphrase does not unlock this record" (tamper QA).
            raise DamagedKeyFileError(
                f"The key file {VAULT_FILE} was changed or damaged: its key-derivation "
                "settings or its check value are not those it was written with, so no "
                "passphrase can be checked against it. "
                f"Restore {VAULT_FILE} from a backup of this folder; nothing was changed."
            )
        kek = derive_key(passphrase, _unb64(doc["kdf"]["salt"]), doc["kdf"])
        check = doc.get("passphrase_check")
        if check is not None and not hmac.compare_digest(passphrase_check(kek), str(check)):
            raise WrongPassphraseError()
        try:
            key = AESGCM(kek).decrypt(
                _unb64(doc["nonce"]), _unb64(doc["wrapped_key"]), _aad(self.database_id)
            )
        except InvalidTag:
            if check is None:  # a key file from before the check: cannot tell the two apart
                raise WrongPassphraseError() from None
            raise DamagedKeyFileError(
                f"The passphrase is right, but the key it protects in {VAULT_FILE} does not "
                "open: the key file was changed (its wrapped key, nonce or record id), so the "
                "record cannot be unlocked. "
                f"Restore {VAULT_FILE} from a backup of this folder; nothing was changed."
            ) from None
        if check is None:
            self._missing_check = passphrase_check(kek)
        elif recorded is None:
            self._missing_check = str(check)  # the settings' digest is what is missing
        return key

    def add_missing_check(self) -> bool:
        """Give an older key file its passphrase check value, and the digest of its
        settings, once unlocked; True if written."""
        if self._missing_check is None:
            return False
        doc = {**self._doc, "passphrase_check": self._missing_check}
        doc["settings_check"] = settings_check(doc)
        self._doc = doc
        self._missing_check = None
        self.write()
        return True


def settings_check(doc: dict[str, Any]) -> str:
    """A digest of what unwrapping reads besides the passphrase (the key-derivation
    settings and the passphrase's check value): a key file damaged there is told from a
    wrong passphrase. Not a secret and not keyed: it finds damage, not forgery (forging
    a setting only keeps the record locked)."""
    settled = {"kdf": doc["kdf"], "passphrase_check": doc.get("passphrase_check")}
    text = json.dumps(settled, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _aad(database_id: str) -> bytes:
    # Binds the wrapped key to this database id: a key file swapped in from
    # another record does not unwrap.
    return f"{VAULT_FORMAT}:{database_id}".encode()


def _keyring_user(database_id: str) -> str:
    return f"database-key:{database_id}"


def _store_in_keyring(
    backend: keyring.backend.KeyringBackend, database_id: str, key: bytes
) -> bool:
    user = _keyring_user(database_id)
    try:
        backend.set_password(KEYRING_SERVICE, user, key.hex())
        kept = backend.get_password(KEYRING_SERVICE, user) == key.hex()
    except Exception as exc:  # noqa: BLE001 - any backend failure means "no usable keyring"
        log.info("keyring refused the key (%s); using a passphrase instead", type(exc).__name__)
        return False
    if not kept:
        log.info("keyring did not keep the key; using a passphrase instead")
    return kept


def _wrap_with_new_passphrase(
    key: bytes, database_id: str, source: PassphraseSource
) -> dict[str, Any]:
    error: str | None = None
    for _attempt in range(5):
        text = source(PassphraseRequest(creating=True, error=error))
        if text is None and error is not None:
            raise WeakPassphraseError(error)
        if text is None:
            raise PassphraseUnavailableError(
                "No keyring is available on this computer, so the record needs a passphrase, "
                "and none was given. Enter one at the prompt, or set KAPDESK_PASSPHRASE for "
                "unattended use; nothing was created."
            )
        error = passphrase_weakness(text)
        if error is not None:
            continue
        salt = secrets.token_bytes(16)
        kdf: dict[str, Any] = {
            "name": "argon2id",
            "memory_kib": ARGON2_MEMORY_KIB,
            "iterations": ARGON2_ITERATIONS,
            "lanes": ARGON2_LANES,
            "salt": _b64(salt),
        }
        nonce = secrets.token_bytes(12)
        kek = derive_key(text, salt, kdf)
        wrapped = AESGCM(kek).encrypt(nonce, key, _aad(database_id))
        doc = {
            "method": "passphrase",
            "kdf": kdf,
            "nonce": _b64(nonce),
            "wrapped_key": _b64(wrapped),
            "passphrase_check": passphrase_check(kek),
        }
        doc["settings_check"] = settings_check(doc)
        return doc
    raise WeakPassphraseError(error or "The passphrase was not accepted.")


def parse_vault(raw: bytes, name: str) -> dict[str, Any]:
    """Check a key file's shape; a damaged one is reported, never rewritten."""
    damaged = MissingFileError(
        f"The key file {name} is damaged or not a kapdesk key file. Restore it from a "
        "backup; nothing was changed."
    )
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # undecodable, not JSON, nested or numbers absurdly
        raise damaged from None
    if not isinstance(doc, dict) or doc.get("format") != VAULT_FORMAT:
        raise damaged
    try:
        uuid.UUID(str(doc["database_id"]))
        if doc["method"] == "keyring":
            str(doc["key_check"])
        elif doc["method"] == "passphrase":
            kdf = doc["kdf"]
            if kdf["name"] != "argon2id":
                raise damaged
            if not SALT_BYTES[0] <= len(_unb64(kdf["salt"])) <= SALT_BYTES[1]:
                raise damaged
            if len(_unb64(doc["nonce"])) != 12 or len(_unb64(doc["wrapped_key"])) != 48:
                raise damaged
            for setting, (low, high) in KDF_LIMITS.items():
                value = kdf[setting]
                if type(value) is not int or not low <= value <= high:
                    raise MissingFileError(
                        f"The key file {name} asks for a key-derivation setting kapdesk does "
                        f"not accept ({setting} {value!r}; accepted: {low} to {high}). It was "
                        "damaged or altered: restore it from a backup; nothing was changed."
                    )
            if "passphrase_check" in doc:
                str(doc["passphrase_check"])
        else:
            raise damaged
    except (KeyError, TypeError, ValueError, AttributeError):
        raise damaged from None
    return doc
