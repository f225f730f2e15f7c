"""Failures of the record, each with a sentence saying what happened and what to do.

Every one of these is raised before anything on disk is changed; the
sentences promise that, so keep it true.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base for failures the user can act on; str() is the sentence to show."""

    exit_code = 2


class WrongPassphraseError(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "That passphrase does not unlock this record. Check it (and Caps Lock) and try "
            "again; nothing was changed."
        )


class DamagedKeyFileError(StoreError):
    """The passphrase is proven right but the wrapped key in the key file does not open."""


class PassphraseUnavailableError(StoreError):
    pass


class WeakPassphraseError(StoreError):
    pass


class KeyMissingError(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The key for this record is not in this computer's keyring: it may have been "
            "removed, or the data folder was copied from another computer. Put the key back "
            "or restore from a backup; nothing was changed."
        )


class WrongKeyError(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The key in this computer's keyring does not belong to this record. Restore the "
            "right keyring entry or restore from a backup; nothing was changed."
        )


class NotADatabaseError(StoreError):
    pass


class DamagedDatabaseError(StoreError):
    pass


class MissingFileError(StoreError):
    pass


class NewerVersionError(StoreError):
    pass


class InstanceLockedError(StoreError):
    pass


class FolderUnusableError(StoreError):
    """The data folder cannot be created, locked or written (read-only, removed, no rights)."""


class DiskFullError(FolderUnusableError):
    """Too little space to open the record safely; the record itself is intact."""


class NoRecordError(StoreError):
    """The folder holds no record, and only starting the app (or demo) may create one."""


class RecordIncompleteError(StoreError):
    """Acknowledged entries may be missing: a damaged write-ahead log, or a record behind
    its anchor. Nothing is opened for writing until the clinician accepts the loss."""

    def __init__(
        self, sentence: str, finding: dict[str, object], problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(sentence)
        self.finding = finding
        self.problems = problems  # what was found, each a sentence, without the remedy


class SchemaAlteredError(StoreError):
    """Tables, indexes or triggers were added, dropped or replaced from outside kapdesk."""


class MigrationFailedError(StoreError):
    """A schema upgrade failed; the record stays at its old schema."""


class SaveFailedError(StoreError):
    """A write did not happen; the entry is not stored and the record is as before."""


class NotFoundError(StoreError):
    pass


class ImmutableError(StoreError):
    """An attempt to change what the record keeps as written once."""


class BackupError(StoreError):
    pass


class ExportRefused(StoreError):
    """A report or export that would replace a file, or has nowhere to go: nothing written."""


DAMAGED_PAGE = (
    "Part of the record's database file is damaged and cannot be read. Note entries on "
    "paper; keep the data folder as it is and do not start kapdesk on it again; run "
    "“kapdesk verify”, and restore the latest backup into a new folder."
)
DAMAGED_WHILE_OPEN = "kapdesk stopped. " + DAMAGED_PAGE


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` (SQLAlchemy's, or the database driver's own) says a page of the
    database file is damaged: opening reads only the pages it needs (issue 10), so a
    damaged page elsewhere is met later, by whatever first reads it."""
    original = getattr(exc, "orig", None) or exc
    name = getattr(original, "sqlite_errorname", "")
    message = str(original)
    return name in {"SQLITE_CORRUPT", "SQLITE_NOTADB"} or (
        type(original).__name__ == "DatabaseError"
        and ("malformed" in message or "not a database" in message)
    )
