"""The `kapdesk` command: the app, and the verbs that look after the record."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kapdesk import __version__
from kapdesk.clinical.vitals import ValidationError
from kapdesk.local.logs import install_exception_hook, setup_logging
from kapdesk.local.paths import Paths, resolve

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED_CHECK = 1
EXIT_ERROR = 2
CLINICIAN_SECRET = "KAPDESK_CLINICIAN_SECRET"
# The clinician named with --clinician (issue 14): every verb that opens the record signs
# in as them before it acts.
_acting: dict[str, str | None] = {"name": None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kapdesk",
        description="Session companion for ketamine-assisted psychotherapy. "
        "With no command, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"kapdesk {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the data folder to use (default: $KAPDESK_HOME, else the user data folder)",
    )
    parser.add_argument(
        "--clinician",
        metavar="NAME",
        help="the clinician acting (an account's name): backups, exports and reports are "
        f"signed with it; their PIN or passphrase is asked, or read from ${CLINICIAN_SECRET}",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    verify = verbs.add_parser(
        "verify",
        help="check the record read-only: SQLite and SQLCipher integrity, structure and "
        "guards, audit chain, write-ahead log, anchor, and backups taken earlier",
    )
    verify.add_argument(
        "backups",
        metavar="BACKUP",
        nargs="*",
        help="backup files to compare the record with (those in the data folder's "
        "backups/ are always compared)",
    )
    backup = verbs.add_parser("backup", help="write an encrypted backup of the record to FILE")
    backup.add_argument("file", metavar="FILE")
    backup.add_argument(
        "--portable",
        action="store_true",
        help="for a keyring-protected record: protect the backup's key with a recovery "
        "passphrase so it restores on another computer ($KAPDESK_RECOVERY_PASSPHRASE)",
    )
    restore = verbs.add_parser("restore", help="restore a backup FILE into an empty data folder")
    restore.add_argument("file", metavar="FILE")
    verbs.add_parser(
        "demo",
        help="add a clearly marked demo patient with a finished and a running session",
    )
    report = verbs.add_parser(
        "report", help="write a session's report as a PDF FILE (not encrypted: file it safely)"
    )
    report.add_argument("session", metavar="SESSION", help="the session's id")
    report.add_argument("file", metavar="FILE", help="a new .pdf file (never replaced)")
    rems = verbs.add_parser(
        "rems",
        help="the SPRAVATO REMS Patient Monitoring Form's fields for a session, from the "
        "record, as FILE.pdf or FILE.csv (what is missing is named)",
    )
    rems.add_argument("session", metavar="SESSION", help="the session's id")
    rems.add_argument("file", metavar="FILE", help="a new .pdf or .csv file (never replaced)")
    export = verbs.add_parser(
        "export",
        help="write the record (or one patient's or session's) as CSV files into a new "
        "folder TARGET: plain text, so choose a place only you control",
    )
    export.add_argument(
        "--format",
        choices=["csv", "fhir"],
        default="csv",
        help="csv (one file per kind, into a new folder) or fhir (an R4 Bundle as one JSON "
        "file; needs --patient or --session)",
    )
    scope = export.add_mutually_exclusive_group()
    scope.add_argument("--patient", metavar="ID", help="only this patient's records")
    scope.add_argument("--session", metavar="ID", help="only this session's records")
    export.add_argument(
        "target", metavar="TARGET", help="a new folder (csv) or a new .json file (fhir)"
    )
    verbs.add_parser(
        "selftest",
        help="check that kapdesk works on this computer: a scratch record in a temporary "
        "folder, the window, a session and a reading, then removed (the record in the data "
        "folder is not touched)",
    )
    accept = verbs.add_parser(
        "accept-loss",
        help="open a record whose newest entries are missing or whose write-ahead log is "
        "damaged, as it is, and write the loss into its audit trail (copy the folder first)",
    )
    accept.add_argument(
        "--reason", required=True, help="why the record is used as it is (kept in the record)"
    )
    return parser


def _run_app(paths: Paths) -> int:
    """The app. Python's cyclic garbage collector is paused while it starts (issue 10):
    start-up makes some 75,000 lasting objects (Qt's, SQLAlchemy's, kapdesk's modules)
    and next to no garbage, and the collector walked them about 170 times (0.1 s, measured).
    The app resumes it once the window is painted (launch.resume_collector), and a start
    that ends before then resumes it here."""
    gc.disable()
    try:
        from kapdesk.ui.launch import run_app  # the GUI is imported only when it is wanted

        return run_app(paths, login_name=_login_name())
    finally:
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    install_exception_hook()
    args = build_parser().parse_args(argv)
    paths = resolve(args.data_dir)
    unreadable = _not_text([*vars(args).values(), str(paths.data)])
    if unreadable is not None:
        # A name with bytes that are not UTF-8 met the audit trail, or SQLite's file name,
        # as "kapdesk met an unexpected error", after a key file was written (tamper QA).
        print(
            f"“{unreadable}” holds bytes that are not text (UTF-8), which kapdesk cannot "
            "store or name: give a folder or file name of letters, digits and ordinary "
            "punctuation. Nothing was changed.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    _acting["name"] = args.clinician
    # Logs live inside a chosen data folder; nothing may create a mistyped folder just to
    # log into it. The app asks before it creates a record, and logs to the file from then.
    _start_logging(paths.logs, to_file=not paths.chosen or _may_log_in(paths.data))
    log.info("kapdesk %s starting (%s)", __version__, args.verb or "app")
    if args.verb is None:
        return _run_app(paths)
    if args.verb == "selftest":
        from kapdesk.ui.selftest import run_selftest

        return run_selftest()
    from kapdesk.store.errors import StoreError

    try:
        if args.verb == "verify":
            return _verify(paths, [Path(b).expanduser() for b in args.backups])
        if args.verb == "backup":
            return _backup(paths, Path(args.file), portable=args.portable)
        if args.verb == "restore":
            return _restore(paths, Path(args.file))
        if args.verb == "demo":
            return _demo(paths)
        if args.verb == "report":
            return _report(paths, args.session, Path(args.file))
        if args.verb == "rems":
            return _report(paths, args.session, Path(args.file), rems=True)
        if args.verb == "export":
            if args.format == "fhir":
                return _export_fhir(paths, args.target, patient=args.patient, session=args.session)
            return _export(paths, args.target, patient=args.patient, session=args.session)
        if args.verb == "accept-loss":
            return _accept_loss(paths, args.reason)
    except (StoreError, ValidationError) as exc:
        print(str(exc), file=sys.stderr)
        log.info("%s refused: %s", args.verb, type(exc).__name__)
        return EXIT_ERROR
    except Exception as exc:
        from kapdesk.store.errors import DAMAGED_PAGE, is_damage

        if not is_damage(exc):
            raise
        # A damaged page is met by whatever first reads it (opening reads few): an export
        # or report reaching it said "kapdesk met an unexpected error" (tamper QA).
        print(DAMAGED_PAGE, file=sys.stderr)
        log.error("%s met a damaged page: %s", args.verb, type(exc).__name__)
        return EXIT_ERROR
    raise AssertionError(f"unhandled verb {args.verb}")


def _not_text(values: Sequence[object]) -> str | None:
    """The first of ``values`` that is text no UTF-8 can hold (a file name's stray bytes,
    kept by Python as lone surrogates), as it can be printed; None if all can be."""
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return None


def _may_log_in(data: Path) -> bool:
    """Whether a chosen data folder may take the log: it exists and holds a record or
    nothing but kapdesk's own files. A folder of other files is refused a record with a
    sentence (store/folder.py); a logs folder made in it first (in /, say) was a change
    made all the same (tamper QA)."""
    if not data.is_dir():
        return False
    from kapdesk.store.folder import others_files  # a chosen folder only

    try:
        return not others_files(data)
    except OSError:
        return False


def _start_logging(folder: Path, *, to_file: bool) -> None:
    """Logging to its file; if the folder cannot be used, to stderr only, so that the
    sentence about the folder comes from the step that can say what is wrong with it."""
    if to_file:
        try:
            setup_logging(folder)
            return
        except OSError:
            pass
    logging.basicConfig(level=logging.WARNING, format="kapdesk: %(message)s")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "clinician"


def _open(paths: Paths, *, create: bool = False, accept_loss: str | None = None):  # type: ignore[no-untyped-def]
    from kapdesk.local.passphrase import from_terminal
    from kapdesk.store import RecordStore
    from kapdesk.store.opening import older_log_sentence

    store = RecordStore.open(
        paths.data,
        passphrase=from_terminal,
        login_name=_login_name(),
        create=create,
        accept_loss=accept_loss,
        anchor_mirror=paths.anchors,
    )
    try:
        _sign_in(store, _acting["name"])
    except BaseException:
        store.close()
        raise
    if store.older_log is not None and accept_loss is None:
        print(older_log_sentence(store.older_log), file=sys.stderr)
    for problem in (store.clock_behind, store.anchor_problem, store.anchor_mirror_problem):
        if problem is not None:
            print(problem, file=sys.stderr)
    return store


def _sign_in(store, name: str | None) -> None:  # type: ignore[no-untyped-def]
    """Sign in as the clinician named with --clinician, with their own secret; without it,
    the record's entries and events stay the computer login's, as before accounts."""
    import os

    from kapdesk.clinical.accounts import secret_kind
    from kapdesk.session.unlocking import wait_after
    from kapdesk.store.errors import StoreError

    if name is None:
        if store.has_accounts():
            print(
                "No --clinician named: this is recorded under the computer login "
                f"“{_login_name()}”. Name yourself with --clinician NAME to sign it.",
                file=sys.stderr,
            )
        return
    wanted = " ".join(name.split()).casefold()
    found = [
        a
        for a in store.accounts(active_only=True)
        if wanted in (a.display_name.casefold(), a.signature.casefold())
    ]
    if len(found) != 1:
        raise StoreError(
            f"No active clinician's account is named “{name}”; nothing was done. Use the "
            "name as the log shows it (the app's Ctrl+Shift+A lists them)."
        )
    account = found[0]
    secret = os.environ.get(CLINICIAN_SECRET)
    if secret is None:
        secret = getpass.getpass(f"PIN or passphrase of {account.signature}: ")
    # The lock screen's growing wait after refused PINs, counted from the audit trail as
    # there: a loop of commands tried six PINs in eight seconds (tamper QA).
    refusals = store.unlock_refusals()
    wait = wait_after(refusals)
    if wait:
        print(
            f"{refusals} PINs or passphrases refused in a row: waiting {wait} s before this "
            "one is checked.",
            file=sys.stderr,
        )
        _pause(wait)
    if not store.check_secret(account.clinician_id, secret):
        store.note_unlock_refused(account.clinician_id, "command_line")
        raise StoreError(
            f"That is not {account.signature}'s PIN or passphrase; nothing was done. The "
            "refusal is in the audit trail."
        )
    store.sign_in(account.clinician_id, secret_kind(secret), {"where": "command_line"})


def _pause(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _verify(paths: Paths, backups: list[Path]) -> int:
    from kapdesk.local.passphrase import from_terminal
    from kapdesk.store.errors import BackupError
    from kapdesk.store.verify_folder import verify_folder

    for backup in backups:
        if not backup.is_file():
            # "not a backup file" of a name that is not there read as if it were (QA).
            what = "is not a backup file" if backup.exists() else "does not exist"
            raise BackupError(f"{backup} {what}; nothing was verified.")
    if _acting["name"] is not None:
        # Read-only, it signs nobody in: a wrong PIN with --clinician went unsaid (QA).
        print(
            "verify reads the record without signing anyone in: --clinician is not used.",
            file=sys.stderr,
        )
    print(f"Verifying the record in {paths.data} (read-only: the record is not changed)")
    report = verify_folder(
        paths.data, from_terminal, backups, mirror=paths.anchors, progress=ProgressLine("verify")
    )
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAILED_CHECK


class ProgressLine:
    """Progress on stderr, one line rewritten in place on a terminal, a line now and then
    otherwise (a log file, CI): stdout keeps only the verdict."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.terminal = sys.stderr.isatty()
        self.shown: tuple[str, int] = ("", -1)

    def __call__(self, what: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        step = 1 if self.terminal else 25
        if (what, percent // step) == self.shown:
            return
        self.shown = (what, percent // step)
        line = f"{self.verb}: {what} {percent} %"
        if total > 2:
            line += f" ({done:,} of {total:,})"
        if self.terminal:
            end = "\n" if done >= total else ""
            print(f"\r{line:<70}", end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _backup(paths: Paths, target: Path, *, portable: bool = False) -> int:
    import os

    from kapdesk.local.passphrase import RECOVERY_VARIABLE, recovery_passphrase
    from kapdesk.store.errors import BackupError

    target = target.expanduser().resolve()
    if target.exists():  # before opening the record: a refusal changes nothing in it
        raise BackupError(
            f"{target} already exists. Choose a new file name; the existing file was not touched."
        )
    with _open(paths) as store:
        keyring_record = store.key_method == "keyring"
        recovery = recovery_passphrase if portable and keyring_record else None
        info = store.backup(target, recovery=recovery, progress=ProgressLine("backup"))
    if portable and not keyring_record:
        unused = (
            " ($KAPDESK_RECOVERY_PASSPHRASE was not used)"
            if RECOVERY_VARIABLE in os.environ
            else ""
        )
        print(
            "This record is protected by its passphrase, so every backup of it already "
            f"restores on any computer with that passphrase; --portable changes nothing{unused}."
        )
    print(
        f"Backup written: {info.path} ({info.size:,} bytes, {info.audit_events} audit events).\n"
        f"SHA-256 {info.sha256}\n"
        "The backup is encrypted."
    )
    if info.portable:
        print("Restoring it needs the passphrase; it restores on any computer.")
    else:
        print(
            "This record's key is in this computer's keyring, so this backup restores on "
            "this computer only. If the computer may be lost, also take one with --portable."
        )
    return EXIT_OK


def _restore(paths: Paths, source: Path) -> int:
    from kapdesk.local.passphrase import from_terminal
    from kapdesk.store.backup import restore_backup

    manifest = restore_backup(source.expanduser(), paths.data, from_terminal, mirror=paths.anchors)
    reached = manifest.get("this_computer_reached")
    with _open(paths) as store:
        store.record_event(
            "restore",
            {"backup_created_at": manifest.get("created_at"), "this_computer_reached": reached},
        )
        report = store.verify()
    print(f"Restored the backup of {manifest.get('created_at')} into {paths.data}.")
    if reached is not None:
        print(
            f"Note: this computer had recorded up to audit event #{reached}; the backup holds "
            f"{manifest.get('audit_events')}. What was recorded after the backup is not in "
            "the restored record (the restore is written in its audit trail)."
        )
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAILED_CHECK


def _demo(paths: Paths) -> int:
    import datetime as dt

    from kapdesk.local.demo import DEMO_NAME, DEMO_RECORD_NUMBER, create_demo
    from kapdesk.local.demo_course import COURSE_NAME, create_demo_course
    from kapdesk.session.service import SessionService

    with _open(paths, create=True) as store:
        _start_logging(paths.logs, to_file=True)  # the folder exists now
        if store.record_number_taken(DEMO_RECORD_NUMBER):
            print(
                f"The demo patients are already in {paths.data}. Start kapdesk with the same "
                "data folder to see them."
            )
            return EXIT_OK
        patients = store.patient_count()
        if patients:
            # Entries are never taken out: demo patients added to a clinic's record stay
            # among its patients for good (tamper QA).
            raise ValidationError(
                "demo",
                f"{paths.data} holds a clinic's record ({patients} "
                f"{'patient' if patients == 1 else 'patients'}). Demo patients go only into "
                "a new record, since nothing is ever taken out of one: try kapdesk with a new "
                "folder (--data-dir). Nothing was added.",
            )
        now = dt.datetime.now(dt.UTC)
        with store.grouped():
            course = create_demo_course(store, now)
        _finished, running = create_demo(store, now)
        # The readings are written as a monitor's would be; the alerts are raised by the
        # rules, as they would have been during the sessions.
        for session in [*course, running]:
            SessionService(store, session, clock=lambda: now, protocol=None).raise_missing_alerts()
    print(
        f"Added the demo patient “{DEMO_NAME}” with a finished session and one running now, "
        f"and “{COURSE_NAME}” with a course of {len(course)} sessions (Ctrl+Shift+C shows "
        f"it), to {paths.data}. Start kapdesk with the same data folder to see them."
    )
    return EXIT_OK


def _report(paths: Paths, session: str, target: Path, *, rems: bool = False) -> int:
    import datetime as dt
    import os
    import uuid

    from kapdesk.store.errors import ExportRefused

    try:
        session_id = uuid.UUID(session)
    except ValueError:
        raise ValidationError(
            "session", f"{session!r} is not a session id (they look like 3f2b…-…); nothing written."
        ) from None
    target = target.expanduser().resolve()
    if target.exists():
        raise ExportRefused(
            f"{target} already exists. Choose a new file name; the existing file was not touched."
        )
    if not target.parent.is_dir():
        raise ExportRefused(f"{target.parent} is not a folder; nothing was written.")
    wanted = (".pdf", ".csv") if rems else (".pdf",)
    if target.suffix.lower() not in wanted:
        raise ExportRefused(
            f"{target.name} does not end in {' or '.join(wanted)}; name the file so that what "
            "opens it knows what it is. Nothing was written."
        )
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a report needs no screen
    from PySide6.QtWidgets import QApplication

    from kapdesk.session.protocols import clinic_protocols
    from kapdesk.session.service import SessionService
    from kapdesk.ui.report import save_document

    # A widgets application, as the app's own: one Qt application per process, and a
    # later one (the GUI, a test) finds the kind it needs.
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with _open(paths) as store:
        row = store.session(session_id)  # NotFoundError: a sentence, nothing written
        protocol = clinic_protocols(store.folder).protocols.get(row["protocol"])
        service = SessionService(
            store, session_id, protocol=protocol, clock=lambda: dt.datetime.now(dt.UTC)
        )
        if rems and not service.esketamine_session():
            raise ExportRefused(f"{service.NOT_REMS} (kapdesk report SESSION FILE.pdf).")
        try:
            saved = save_document(service, target, rems=rems)
        except OSError as exc:
            raise ExportRefused(
                f"{target} could not be written ({exc.strerror or exc}); nothing was saved."
            ) from None
    what, missing = ("REMS form", saved.missing) if rems else ("Report", ())
    del app
    print(f"{what} written: {target}. It is not encrypted: file it safely.")
    if missing:
        print(f"Not in the record, to fill in on the form: {', '.join(missing)}.")
    return EXIT_OK


def _parsed_id(value: str | None, what: str) -> Any:
    import uuid

    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(
            what, f"{value!r} is not a {what} id (they look like 3f2b…-…); nothing written."
        ) from None


def _export_fhir(paths: Paths, target: str, *, patient: str | None, session: str | None) -> int:
    import contextlib
    import datetime as dt
    import json
    import os

    from kapdesk.session import fhir
    from kapdesk.session.service import SessionService
    from kapdesk.store.errors import ExportRefused

    if patient is None and session is None:
        raise ExportRefused(
            "A FHIR export is of one patient (--patient ID) or one session (--session ID); "
            "nothing was written."
        )
    file = Path(target).expanduser().resolve()
    if file.exists():
        raise ExportRefused(f"{file} already exists. Choose a new file name; nothing was written.")
    if not file.parent.is_dir():
        raise ExportRefused(f"{file.parent} is not a folder; nothing was written.")
    if file.suffix.lower() != ".json":
        raise ExportRefused(f"{file.name} does not end in .json; nothing was written.")
    session_id, patient_id = _parsed_id(session, "session"), _parsed_id(patient, "patient")

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    with _open(paths) as store:
        if session_id is not None:
            bundle = fhir.session_bundle(
                SessionService(store, session_id, clock=now, protocol=None)
            )
        else:
            store.entry("patient", patient_id)  # NotFoundError: a sentence, nothing written
            services = [
                SessionService(store, s["id"], clock=now, protocol=None)
                for s in reversed(store.sessions(patient_id))
            ]
            if not services:
                raise ExportRefused("That patient has no sessions; nothing was written.")
            bundle = fhir.patient_bundle(services)
        text = json.dumps(bundle, ensure_ascii=False, indent=1)
        created = False
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
            with open(descriptor, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            if created:  # part-written (a full disk): plain text, and wrong
                with contextlib.suppress(OSError):
                    file.unlink()
            raise ExportRefused(
                f"{file} could not be written ({exc.strerror or exc}); nothing was saved."
            ) from None
        store.record_event(
            "export",
            {
                "format": "fhir",
                **({"session_id": session} if session else {"patient_id": patient}),
                "file": str(file),
                "resources": len(bundle["entry"]),
            },
        )
    print(
        f"Exported a FHIR R4 Bundle of {len(bundle['entry'])} resources to {file}. It is "
        "plain text: keep it where only you can."
    )
    return EXIT_OK


def _export(paths: Paths, target: str, *, patient: str | None, session: str | None) -> int:
    parsed = _parsed_id

    folder = Path(target).expanduser().resolve()
    with _open(paths) as store:
        info = store.export_csv(
            folder,
            patient_id=parsed(patient, "patient"),
            session_id=parsed(session, "session"),
            progress=ProgressLine("export"),
        )
    print(
        f"Exported {info.total:,} rows as CSV into {info.folder}: "
        + ", ".join(f"{name} {rows:,}" for name, rows in info.rows.items())
        + ".\nThese files are plain text: anyone who can open them can read them. Keep them "
        "where only you can, and delete them when they are no longer needed."
    )
    return EXIT_OK


def _accept_loss(paths: Paths, reason: str) -> int:
    from kapdesk.store.opening import older_log_sentence

    with _open(paths, accept_loss=reason) as store:
        report = store.verify()
        kept = (store.accepted_loss or {}).get("kept", [])
    if store.older_log is not None:
        print(older_log_sentence(store.older_log))
    else:
        print(
            f"Opened the record in {paths.data} as it is. The loss and your reason are "
            "written in its audit trail"
            + (
                "; what opening folded in or replaced was kept first: " + ", ".join(kept) + "."
                if kept
                else "."
            )
        )
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAILED_CHECK
