"""Clinicians' accounts in the record: who may act, as whom, and the proof (issue 14).

An account is a row of ``clinicians`` (what entries point at) and its versions in
``clinician_accounts``: a change (a new PIN, a new role, deactivation) is a new version,
never an update, and each is audited. The record key still opens the record; the
clinician's own PIN or passphrase says who is acting, and ``clinician_id`` (which every
write records) is the clinician signed in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session as OrmSession

from kapdesk.clinical.accounts import (
    ROLES,
    AccountDetails,
    check_new_secret,
    clean_account,
    secret_kind,
    signature,
)
from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import models as m
from kapdesk.store.errors import NotFoundError
from kapdesk.store.secrets import hash_secret, secret_matches
from kapdesk.store.writing import ChainedWriter, NewRow, new_row

# How far back the audit trail is read for refused unlocks not yet followed by a sign-in
# (a restart must not reset the lock screen's growing delay).
REFUSALS_LOOK_BACK = 500


@dataclass(frozen=True)
class Account:
    clinician_id: uuid.UUID
    display_name: str
    credentials: str | None
    role: str
    manages_accounts: bool
    active: bool
    secret_kind: str
    changed_at: dt.datetime
    version: int
    secret_hash: str = field(repr=False)

    @property
    def signature(self) -> str:
        return signature(self.display_name, self.credentials)

    @property
    def role_label(self) -> str:
        label = ROLES.get(self.role, self.role)
        return f"{label}, manages accounts" if self.manages_accounts else label


class AccountRefused(ValidationError):
    """An account change the acting clinician may not make; the sentence says why."""

    def __init__(self, sentence: str) -> None:
        super().__init__("account", sentence)


class ClinicianAccounts(ChainedWriter):
    record_event: Callable[[str, Mapping[str, Any] | None], None]  # RecordStore's

    def accounts(self, *, active_only: bool = False) -> list[Account]:
        """Each clinician's account as it stands (its newest version), by name."""
        with OrmSession(self._engine) as orm:
            rows = orm.scalars(
                select(m.ClinicianAccount).order_by(
                    m.ClinicianAccount.clinician_id, m.ClinicianAccount.version
                )
            ).all()
        newest: dict[uuid.UUID, m.ClinicianAccount] = {}
        for row in rows:  # each clinician's versions in order: the last one wins
            newest[row.clinician_id] = row
        found = [_account(row) for row in newest.values()]
        if active_only:
            found = [a for a in found if a.active]
        return sorted(found, key=lambda a: (a.display_name.casefold(), str(a.clinician_id)))

    def account(self, clinician_id: uuid.UUID) -> Account | None:
        """One clinician's account as it stands (its newest version), if they have one."""
        with OrmSession(self._engine) as orm:
            row = orm.scalars(
                select(m.ClinicianAccount)
                .where(m.ClinicianAccount.clinician_id == clinician_id)
                .order_by(m.ClinicianAccount.version.desc())
                .limit(1)
            ).first()
            return None if row is None else _account(row)

    def has_accounts(self) -> bool:
        with self._engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM clinician_accounts LIMIT 1")).first()
        return found is not None

    @property
    def acting_account(self) -> Account | None:
        """The account of the clinician signed in, if the record has accounts."""
        return self.account(self.clinician_id)

    def create_account(
        self,
        display_name: str,
        *,
        credentials: str | None,
        role: str,
        secret: str,
        manages_accounts: bool = False,
    ) -> uuid.UUID:
        """A new clinician's account. The record's first is made by whoever starts kapdesk
        and always manages accounts; later ones only by a clinician who manages them."""
        details = clean_account(display_name, credentials, role)
        check_new_secret(secret)
        first = not self.has_accounts()
        if not first:
            self._require_manager("add a clinician")
        if first:
            manages_accounts = True  # somebody must be able to manage the others
        taken = [
            a
            for a in self.accounts(active_only=True)
            if a.signature == signature(details.display_name, details.credentials)
        ]
        if taken:
            raise ValidationError(
                "name",
                f"An active account is already named “{taken[0].signature}”; add a middle "
                "initial or the credentials so the log tells the two apart.",
            )
        now = self._now()
        clinician_id = m.new_id()
        clinician = new_row(
            m.Clinician,
            id=clinician_id,
            login_name=f"account:{clinician_id}",
            display_name=details.display_name,
            created_at=now,
        )
        version = self._version(
            clinician_id,
            1,
            details,
            manages=bool(manages_accounts),
            active=True,
            secret=(secret_kind(secret), hash_secret(secret)),
            reason="first account of the record" if first else "account added",
        )
        with self._saving("the clinician's account") as cursor:
            self._insert(cursor, "clinician", clinician, {})
            self._insert(cursor, "clinician_account", version, {"role": details.role})
        return clinician_id

    def change_account(self, clinician_id: uuid.UUID, *, reason: str, **changes: Any) -> uuid.UUID:
        """A new version of an account: any of display_name, credentials, role,
        manages_accounts, active, secret. A clinician may change their own secret; the
        rest takes a clinician who manages accounts."""
        allowed = {"display_name", "credentials", "role", "manages_accounts", "active", "secret"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown account fields {sorted(unknown)}")
        reason_text = clean_text(reason, "The reason for the change", limit=500)
        current = self.account(clinician_id)
        if current is None:
            raise NotFoundError("No clinician's account with that id is in the record.")
        own_secret_only = set(changes) <= {"secret"} and clinician_id == self.clinician_id
        if not own_secret_only:
            self._require_manager("change a clinician's account")
        details = clean_account(
            changes.get("display_name", current.display_name),
            changes.get("credentials", current.credentials),
            changes.get("role", current.role),
        )
        manages = bool(changes.get("manages_accounts", current.manages_accounts))
        active = bool(changes.get("active", current.active))
        if current.active and current.manages_accounts and not (active and manages):
            others = [
                a
                for a in self.accounts(active_only=True)
                if a.manages_accounts and a.clinician_id != clinician_id
            ]
            if not others:
                raise AccountRefused(
                    "This is the only active account that manages accounts: give another "
                    "clinician that right first, or nobody could add or reset accounts."
                )
        if not active and clinician_id == self.clinician_id:
            raise AccountRefused(
                "You are signed in as this clinician: another clinician who manages accounts "
                "can deactivate it."
            )
        if "secret" in changes:
            secret = check_new_secret(changes["secret"])
            kind, hashed = secret_kind(secret), hash_secret(secret)
        else:
            kind, hashed = current.secret_kind, current.secret_hash
        # The next number: a unique index refuses a version made twice.
        version = self._version(
            clinician_id,
            current.version + 1,
            details,
            manages=manages,
            active=active,
            secret=(kind, hashed),
            reason=reason_text,
        )
        changed = sorted(k for k in changes if k != "secret") + (
            ["secret"] if "secret" in changes else []
        )
        return self._append("clinician_account", version, details={"changed": changed})

    def check_secret(self, clinician_id: uuid.UUID, secret: str) -> bool:
        """Whether ``secret`` is this active clinician's PIN or passphrase."""
        account = self.account(clinician_id)
        return bool(account and account.active and secret_matches(account.secret_hash, secret))

    def sign_in(self, clinician_id: uuid.UUID, how: str, details: Mapping[str, Any] = {}) -> None:
        """From now on entries are this clinician's; the sign-in is in the audit trail."""
        account = self.account(clinician_id)
        if account is None or not account.active:
            raise AccountRefused("That clinician's account is not active; choose another.")
        self.clinician_id = clinician_id
        self.record_event("sign_in", {"how": how, **details})

    def note_unlock_refused(self, tried: uuid.UUID | None, where: str) -> None:
        """A wrong PIN or passphrase, in the audit trail (never what was typed)."""
        self.record_event(
            "unlock_refused",
            {"where": where, "tried_clinician_id": None if tried is None else str(tried)},
        )

    def last_signed_in(self) -> uuid.UUID | None:
        """Who signed in last (among the newest audit events): chosen already at start."""
        with self._engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT actor_id FROM (SELECT actor_id, action FROM audit_events "
                    "ORDER BY seq DESC LIMIT :n) WHERE action = 'sign_in' LIMIT 1"
                ),
                {"n": REFUSALS_LOOK_BACK * 10},
            ).scalar()
        return None if found is None else uuid.UUID(found)

    def unlock_refusals(self) -> int:
        """Refused unlocks since the last sign-in: the lock screen's delay goes on from
        there after a restart."""
        with self._engine.connect() as conn:
            actions = conn.execute(
                text("SELECT action FROM audit_events ORDER BY seq DESC LIMIT :n"),
                {"n": REFUSALS_LOOK_BACK},
            ).scalars()
            count = 0
            for action in actions:
                if action == "sign_in":
                    break
                count += action == "unlock_refused"
        return count

    def _version(
        self,
        clinician_id: uuid.UUID,
        number: int,
        details: AccountDetails,
        *,
        manages: bool,
        active: bool,
        secret: tuple[str, str],
        reason: str,
    ) -> NewRow:
        """A version row of an account; ``secret``: its kind and its Argon2id hash."""
        return new_row(
            m.ClinicianAccount,
            clinician_id=clinician_id,
            version=number,
            display_name=details.display_name,
            credentials=details.credentials,
            role=details.role,
            manages_accounts=manages,
            active=active,
            secret_kind=secret[0],
            secret_hash=secret[1],
            reason=reason,
            recorded_at=self._now(),
            recorded_by=self.clinician_id,
        )

    def _require_manager(self, what: str) -> None:
        acting = self.account(self.clinician_id)
        if acting is None or not acting.active or not acting.manages_accounts:
            raise AccountRefused(
                f"Only a clinician who manages accounts can {what}: ask one to sign in "
                "(Ctrl+Shift+H hands over), then try again."
            )


def _account(row: m.ClinicianAccount) -> Account:
    return Account(
        clinician_id=row.clinician_id,
        display_name=row.display_name,
        credentials=row.credentials,
        role=row.role,
        manages_accounts=bool(row.manages_accounts),
        active=bool(row.active),
        secret_kind=row.secret_kind,
        changed_at=row.recorded_at,
        version=row.version,
        secret_hash=row.secret_hash,
    )
