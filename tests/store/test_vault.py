from __future__ import annotations

import json

import keyring
import keyring.backend
import pytest

from kapdesk.store import RecordStore
from kapdesk.store.errors import PassphraseUnavailableError
from kapdesk.store.vault import KeyVault, usable_keyring
from tests.conftest import PASSPHRASE, fixed_passphrase


class DiscardingKeyring(keyring.backend.KeyringBackend):
    """Accepts every secret and keeps none, like the null backend."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        pass

    def delete_password(self, service, username):
        pass


class RefusingKeyring(DiscardingKeyring):
    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("locked keychain")


class PlaintextFileKeyring(DiscardingKeyring):
    """Stands in for keyrings.alt, which keeps secrets in files."""

    __module__ = "keyrings.alt.file"


def test_a_working_keyring_keeps_the_key(store, data_dir):
    vault = json.loads((data_dir / "vault.json").read_text())
    assert vault["method"] == "keyring"
    assert "wrapped_key" not in vault


@pytest.mark.parametrize("backend", [DiscardingKeyring, RefusingKeyring, PlaintextFileKeyring])
def test_an_unusable_keyring_means_a_passphrase_never_plaintext(backend, data_dir):
    keyring.set_keyring(backend())
    with RecordStore.open(data_dir, passphrase=fixed_passphrase, create=True) as store:
        store.add_patient("Ada Example")
    vault = json.loads((data_dir / "vault.json").read_text())
    assert vault["method"] == "passphrase"
    assert vault["kdf"]["name"] == "argon2id"
    assert vault["kdf"]["memory_kib"] >= 19_456  # OWASP minimum for Argon2id
    with RecordStore.open(data_dir, passphrase=fixed_passphrase) as store:
        assert store.count("patient") == 1


def test_without_keyring_or_passphrase_nothing_is_created(data_dir):
    keyring.set_keyring(DiscardingKeyring())
    with pytest.raises(PassphraseUnavailableError, match="needs a passphrase"):
        RecordStore.open(data_dir, create=True)
    assert not (data_dir / "kapdesk.db").exists()
    assert not (data_dir / "vault.json").exists()
    assert not data_dir.exists()  # the folder it would have made is gone again


def test_plaintext_keyring_backends_are_never_used():
    keyring.set_keyring(PlaintextFileKeyring())
    assert usable_keyring() is None


def test_a_key_file_swapped_from_another_record_does_not_unwrap(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        RecordStore.open(
            folder, passphrase=fixed_passphrase, use_keyring=False, create=True
        ).close()
    doc_one = json.loads((one / "vault.json").read_text())
    doc_two = json.loads((two / "vault.json").read_text())
    doc_two["wrapped_key"], doc_two["nonce"] = doc_one["wrapped_key"], doc_one["nonce"]
    doc_two["kdf"] = doc_one["kdf"]
    vault = KeyVault(two, doc_two)
    # Its parts no longer match its settings' digest: refused as a changed key file.
    with pytest.raises(Exception, match="was changed or damaged"):
        vault.unwrap(PASSPHRASE)


def test_files_are_private(passphrase_store, data_dir):
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for name in ("kapdesk.db", "vault.json", "kapdesk.lock"):
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600


def test_log_files_are_private(tmp_path, monkeypatch):
    from kapdesk.cli import main

    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(tmp_path / "d"), "demo"]) == 0
    logs = tmp_path / "d" / "logs"
    assert logs.stat().st_mode & 0o777 == 0o700
    for name in ("kapdesk.log", "crash.log"):
        assert (logs / name).stat().st_mode & 0o777 == 0o600
