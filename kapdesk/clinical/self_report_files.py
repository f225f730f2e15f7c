"""Self-report instruments and surveys, read from the shipped folders
(kapdesk/resources/instruments and surveys), then a clinic's own.

As with protocols, a file that cannot be used is reported by name (and line, where one is
known) and skipped; the rest still load. An instrument's or survey's id is its file name
without ".toml", so a clinic's phq9.toml replaces the shipped one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import TypeVar

from kapdesk.clinical.protocols import _toml_position
from kapdesk.clinical.self_report import Instrument, Survey
from kapdesk.clinical.self_report_toml import InstrumentFileError, parse_instrument, parse_survey

FILE_ID = re.compile(r"[a-z][a-z0-9_]*")

Loaded = TypeVar("Loaded")


@dataclass
class InstrumentLoad:
    instruments: dict[str, Instrument] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class SurveyLoad:
    surveys: dict[str, Survey] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_instruments(folders: Iterable[Traversable]) -> InstrumentLoad:
    """Every *.toml in the folders, in order; a later file with the same id replaces one."""
    result = InstrumentLoad()
    _load(folders, parse_instrument, result.instruments, result.problems, _keeps_urgent_rule)
    return result


def _keeps_urgent_rule(earlier: Instrument, later: Instrument) -> None:
    """A file replacing an instrument with an urgent rule (PHQ-9 item 9, CLINICAL.md
    "Scales") keeps the rule: on the same item, at the same answer or a lower one, with the
    item's answers valued as before (a translation may reword them). Tamper QA: a clinic's
    phq9.toml without [urgent] switched the item 9 alert off without a word; reversed
    answer values ("Not at all" = 3) scored every total upside down."""
    rule = earlier.urgent
    if rule is None:
        return
    kept = later.urgent
    if kept is None:
        raise InstrumentFileError(
            f"it has no [urgent] table, and the {earlier.name} it replaces alerts the "
            f"clinician on item {rule.item}; keep that rule",
            "urgent",
        )
    if kept.item != rule.item or kept.above > rule.above:
        raise InstrumentFileError(
            f"[urgent] must stay on item {rule.item}, above {rule.above} or lower, as in the "
            f"{earlier.name} it replaces",
            "urgent",
        )
    before = {q.id: [c.value for c in q.choices] for q in earlier.questions if q.scored}
    after = {q.id: [c.value for c in q.choices] for q in later.questions if q.scored}
    if after != before:
        raise InstrumentFileError(
            f"its scored items and their answer values must be those of the {earlier.name} "
            "it replaces, in the same order (the wording may differ)",
            "choices",
        )


def load_surveys(
    folders: Iterable[Traversable], instruments: Mapping[str, Instrument]
) -> SurveyLoad:
    """Every *.toml in the folders, in order; a survey naming an unknown instrument is refused."""
    result = SurveyLoad()
    _load(folders, lambda t, i: parse_survey(t, i, instruments), result.surveys, result.problems)
    return result


def _load(
    folders: Iterable[Traversable],
    parse: Callable[[str, str], Loaded],
    loaded: dict[str, Loaded],
    problems: list[str],
    may_replace: Callable[[Loaded, Loaded], None] | None = None,
) -> None:
    for folder in folders:
        if not folder.is_dir():
            continue
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=_name)
        for path in files:
            file_id, text = path.name.removesuffix(".toml"), ""
            kept = f" The earlier {file_id} stays in use." if file_id in loaded else ""
            try:
                if not FILE_ID.fullmatch(file_id):
                    raise InstrumentFileError(
                        "the file name must be lower-case letters, digits and _ (it becomes the id)"
                    )
                text = path.read_text(encoding="utf-8")
                parsed = parse(text, file_id)
                if may_replace is not None and file_id in loaded:
                    may_replace(loaded[file_id], parsed)  # raises what it may not change
                loaded[file_id] = parsed
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{path.name}: cannot be read ({exc}); skipped.{kept}")
            except tomllib.TOMLDecodeError as exc:
                problems.append(f"{path.name}, {_toml_position(exc)}; skipped.{kept}")
            except RecursionError:  # arrays or tables nested thousands deep (tamper QA)
                problems.append(f"{path.name}: nested too deeply to read; skipped.{kept}")
            except InstrumentFileError as exc:
                line = _line_of(text, exc.key, exc.value)
                where = f"{path.name}, line {line}" if line else path.name
                problems.append(f"{where}: {exc}; skipped.{kept}")


def _name(item: Traversable) -> str:
    return item.name


def _line_of(text: str, key: str | None, value: object = None) -> int | None:
    if key is None:
        return None
    wanted = re.escape(key)
    if value is not None:
        wanted += rf"\s*=\s*[\"']?{re.escape(str(value))}[\"']?\s*(#.*)?$"
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*(\[+)?\s*{wanted}\b" if value is None else rf"\s*{wanted}", line):
            return number
    return None
