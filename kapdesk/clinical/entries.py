"""Checks for the non-vitals entries: free text, doses, patients, scale scores.

Each function returns the cleaned value or raises ValidationError with a
sentence the user can act on. Free text is stored verbatim: no trimming of
inner whitespace, no normalisation, any Unicode.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kapdesk.clinical.scales import check_answers
from kapdesk.clinical.vitals import DECIMAL, ValidationError

# Generous: a long reflection pasted in one go still fits, a runaway paste does not.
MAX_TEXT_CHARS = 20_000
MAX_SHORT_TEXT_CHARS = 200
MAX_TAGS = 32
# An entry time further ahead of the clock than this is a typing error, not clock drift.
FUTURE_TOLERANCE = dt.timedelta(minutes=2)


@functools.cache
def _zone_names() -> frozenset[str]:
    import zoneinfo  # the first session or setting checked reads the list (~40 ms)

    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in {"localtime", "Factory"} and not name.startswith(("posix/", "right/"))
    )


def zone_name_problem(value: str) -> str | None:
    """None if ``value`` is a time zone name of the IANA database (Europe/London, UTC);
    else the sentence. Names this computer's zone files also answer to are refused
    (tamper QA): "localtime" is whatever a computer is set to, "right/Europe/London"
    counts leap seconds and showed a session's times off, "Factory" is no place."""
    import zoneinfo

    names = _zone_names()
    try:
        zoneinfo.ZoneInfo(value)
        known = value in names or not names  # no list to ask (no tzdata): the file will do
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        known = False
    return None if known else f"“{value}” is not a time zone name such as Europe/London"


def clean_entry_time(value: Any, now: dt.datetime) -> dt.datetime:
    """A clinical time as UTC; refused without a time zone or in the future."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError("time", "An entry time must be a date and time with its time zone.")
    if value - now > FUTURE_TOLERANCE:
        raise ValidationError(
            "time", "That time is in the future; check the clock time and enter it again."
        )
    return value.astimezone(dt.UTC)


_CLOCK_TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])$")


def instant_of_clock(
    text_: str,
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
    earliest: dt.datetime,
    ended: dt.datetime | None = None,
) -> dt.datetime:
    """The instant a clock time typed in the clinic (``10:05``) names: the latest one at or
    before now (FUTURE_TOLERANCE ahead is drift, as for any entry time), in the session's
    ``zone``, so a session running past midnight takes 23:55 as the evening before.
    Refused with a sentence if it is not a time of day, has not come yet, is before
    ``earliest`` (the session's start) or after ``ended`` (its end, if it has ended)."""
    match = _CLOCK_TIME.match(text_.strip())
    if match is None:
        raise ValidationError(
            "time", f"“{text_.strip()}” is not a time of day: write the clock time as 10:05."
        )
    clock = f"{int(match.group(1)):02d}:{match.group(2)}"
    hour, minute = int(match.group(1)), int(match.group(2))
    latest = now + FUTURE_TOLERANCE
    local = latest.astimezone(zone)
    # Each instant this clock time named today and yesterday: twice in the hour the
    # clocks go back (tamper QA: at 01:20 winter time, 01:40 summer time, forty minutes
    # before and within the session, was refused as not come yet), never in the hour
    # they skip. The latest so far is the one meant.
    named: list[tuple[dt.datetime, bool]] = []
    for days_back in (0, 1):
        day = local.date() - dt.timedelta(days=days_back)
        for fold in (0, 1):
            wall = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).replace(fold=fold)
            instant = wall.astimezone(dt.UTC)
            shown = instant.astimezone(zone)
            if (shown.hour, shown.minute) == (hour, minute):  # not in a skipped hour
                named.append((instant, days_back == 0))
    past = [(instant, today) for instant, today in named if instant <= latest]
    later_today = any(today and instant > latest for instant, today in named) and not any(
        today for _instant, today in past
    )
    if not past:  # only ever later (the day's first minutes of a zone's first day)
        here = now.astimezone(zone).strftime("%H:%M")
        raise ValidationError(
            "time", f"{clock} has not come yet (it is {here} now): give the time it was taken."
        )
    at = max(instant for instant, _today in past)
    began = earliest.astimezone(zone).strftime("%H:%M")
    last = now if ended is None else ended
    until = last.astimezone(zone).strftime("%H:%M")
    if ended is not None and at > ended:
        raise ValidationError(
            "time",
            f"{clock} is after this session ended, at {until}: give a time from {began} "
            f"to {until}.",
        )
    if at < earliest and at > earliest - dt.timedelta(minutes=1):
        at = earliest  # the minute the session began: its first instant
    if at < earliest:
        if later_today:
            here = now.astimezone(zone).strftime("%H:%M")
            raise ValidationError(
                "time", f"{clock} has not come yet (it is {here} now): give the time it was taken."
            )
        raise ValidationError(
            "time",
            f"{clock} is before this session began, at {began}: give a time from {began} "
            f"to {until}.",
        )
    return at.astimezone(dt.UTC)


class Drug(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


class Route(StrEnum):
    """Routes seen in KAP practice (CLINICAL.md, 'Who uses it, where')."""

    IV = "iv"
    IM = "im"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"


ROUTE_LABELS = {
    Route.IV: "IV infusion",
    Route.IM: "IM injection",
    Route.INTRANASAL: "Intranasal",
    Route.SUBLINGUAL: "Sublingual / lozenge",
}


def route_in_sentence(route: Route) -> str:
    """A route's label inside a sentence: "IV infusion", "intranasal" (not "iv infusion")."""
    label = ROUTE_LABELS[route]
    return label if label[:2].isupper() else label.lower()


# Characters never kept in an entry: control characters other than tab and line breaks
# (ESC, BEL, DEL, C1), and the bidirectional embeddings, overrides and isolates, which
# show text in another order than it is stored ("emanltR" for "Rtlname", tamper QA). The
# marks (LRM, RLM) and the joiners a script or an emoji needs stay.
# A lone surrogate (U+D800-DFFF) is half a character: it cannot be stored as UTF-8, and
# met the store as "an unexpected error" (tamper QA, through the command line).
_REFUSED_CHARACTERS = re.compile(
    "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Shown as nothing, or as a blank, though not a space: in a name, a record number or a tag
# they make two that look the same differ (tamper QA: "QMX\u200b-991" beside "QMX-991",
# a second patient under a number that reads as the first's; a name of one U+3164).
_BLANK_LOOKALIKES = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
)
_JOINERS = "\u200c\u200d"  # part of how some scripts write a name (Persian, Devanagari)


def _invisible_in_a_name(value: str) -> str | None:
    """The first character of ``value`` that no one sees and no name needs, if any: a
    format character (zero-width space, soft hyphen, direction marks, tags) or a blank
    look-alike; a joiner only between two letters of a script that uses it."""
    for at, character in enumerate(value):
        if character in _JOINERS:
            around = value[at - 1 : at] + value[at + 1 : at + 2]
            if len(around) == 2 and all(c.isalpha() and not c.isascii() for c in around):
                continue
            return character
        if character in _BLANK_LOOKALIKES or unicodedata.category(character) == "Cf":
            return character
        if 0xE0100 <= ord(character) <= 0xE01EF:  # variation selectors 17-256
            return character
    return None


def _shows_something(value: str) -> bool:
    """Whether any character of ``value`` is drawn: not only spaces and characters that
    take no room (zero-width spaces, joiners, marks; tamper QA: a patient named by three
    zero-width spaces was saved as a blank row)."""
    return any(
        not character.isspace() and unicodedata.category(character) not in ("Cf", "Cc")
        for character in value
    )


def clean_text(
    value: Any,
    label: str = "Note",
    *,
    limit: int = MAX_TEXT_CHARS,
    field: str = "text",
    one_line: bool = False,
) -> str:
    """Free text, verbatim; refused when empty, nothing in it visible, over the limit, or
    holding a character that is not shown or changes how the rest reads (a line break too,
    ``one_line``: names, numbers, tags). ``field``: the form field a refusal is about
    (where the keyboard goes)."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{label} must be text.")
    if not value.strip():
        raise ValidationError(field, f"{label} is empty; type something before saving.")
    if len(value) > limit:
        raise ValidationError(
            field,
            f"{label} is {len(value):,} characters, over the {limit:,} limit; "
            "split it into shorter entries.",
        )
    if "\x00" in value:
        raise ValidationError(field, f"{label} contains a NUL character; remove it and save.")
    if one_line and _LINE_BREAKS.search(value):
        raise ValidationError(field, f"{label} must be one line; remove the line break and save.")
    refused = _REFUSED_CHARACTERS.search(value)
    if refused is not None:
        code = ord(refused.group())
        raise ValidationError(
            field,
            f"{label} contains half a character (U+{code:04X}) that cannot be stored; retype "
            "it and save."
            if 0xD800 <= code <= 0xDFFF
            else f"{label} contains a control character (U+{code:04X}) that is not shown, or "
            "changes the order the text is shown in; retype it without it and save.",
        )
    if not _shows_something(value):
        raise ValidationError(
            field,
            f"{label} shows nothing: it holds only spaces or invisible characters; type "
            "something before saving.",
        )
    hidden = _invisible_in_a_name(value) if one_line else None
    if hidden is not None:
        raise ValidationError(
            field,
            f"{label} contains an invisible character (U+{ord(hidden):04X}): it would look "
            "like another that differs; retype it without it and save.",
        )
    return value


def clean_optional_text(
    value: Any, label: str, *, limit: int = MAX_SHORT_TEXT_CHARS, field: str = "text"
) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return clean_text(value, label, limit=limit, one_line=True, field=field).strip()


def clean_tags(tags: Sequence[Any] | None) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        raise ValidationError("tags", "Tags must be a list of words, not one string.")
    cleaned: list[str] = []
    for tag in tags:
        text = clean_text(tag, "A tag", limit=60, one_line=True).strip()
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError("tags", f"At most {MAX_TAGS} tags fit on one entry.")
    return tuple(cleaned)


@dataclass(frozen=True)
class DoseEntry:
    drug: Drug
    route: Route
    mg: float
    lot_number: str | None
    device_count: int | None


# Upper bound is a typo guard, far above any KAP dose (CLINICAL.md: IV 0.5-1 mg/kg,
# esketamine 56/84 mg); the clinician's decision is not second-guessed below it.
MAX_DOSE_MG = 1000.0
MAX_DEVICES = 10
ESKETAMINE_MG_PER_DEVICE = 28  # CLINICAL.md: 56 mg = 2 devices, 84 mg = 3 devices


def validate_dose(
    drug: Any, route: Any, mg: Any, lot_number: Any = None, device_count: Any = None
) -> DoseEntry:
    try:
        drug_value = Drug(drug)
    except ValueError:
        raise ValidationError("drug", f"Drug must be one of: {', '.join(Drug)}.") from None
    try:
        route_value = Route(route)
    except ValueError:
        raise ValidationError("route", f"Route must be one of: {', '.join(Route)}.") from None
    dose_mg = _number(mg, "mg", "Dose")
    if not 0 < dose_mg <= MAX_DOSE_MG:
        # "Dose 0 mg is outside 0–1000 mg" contradicted itself (QA): more than 0, at most.
        raise ValidationError(
            "mg",
            f"Dose {dose_mg:g} mg: a dose is more than 0 and at most {MAX_DOSE_MG:g} mg; "
            "check the amount.",
        )
    devices: int | None = None
    if device_count not in (None, ""):
        count = _number(device_count, "device_count", "Device count")
        if count != int(count) or not 1 <= count <= MAX_DEVICES:
            raise ValidationError(
                "device_count", f"Device count must be a whole number from 1 to {MAX_DEVICES}."
            )
        devices = int(count)
    if devices is not None and route_value is not Route.INTRANASAL:
        raise ValidationError("device_count", "A device count applies to intranasal doses only.")
    if devices is not None and drug_value is Drug.ESKETAMINE:
        # The amount and the devices must tell the same dose: 56 mg with 3 devices was
        # stored as typed and offered again at the next session (QA).
        per_device = ESKETAMINE_MG_PER_DEVICE
        if dose_mg != devices * per_device:
            fits = dose_mg / per_device
            what = (
                f"{dose_mg:g} mg is {fits:g} device(s) of {per_device} mg, not {devices}"
                if fits == int(fits)
                else f"{dose_mg:g} mg is not a whole number of {per_device} mg devices "
                f"({devices} device(s) make {devices * per_device} mg)"
            )
            raise ValidationError("device_count", f"{what}: correct the dose or the device count.")
    return DoseEntry(
        drug=drug_value,
        route=route_value,
        mg=dose_mg,
        lot_number=clean_optional_text(lot_number, "Lot number", limit=60, field="lot_number"),
        device_count=devices,
    )


# CLINICAL.md ("Who uses it, where"): an IV infusion is often 0.5-1 mg/kg; intranasal
# esketamine is 56 mg (2 devices) or 84 mg (3 devices) a session.
IV_USUAL_MG_PER_KG = (0.5, 1.0)
ESKETAMINE_USUAL_MAX_MG = 84.0
# Not in CLINICAL.md, which gives a usual range for IV only: where kapdesk asks before it
# stores an IM or sublingual dose, above what KAP gives by that route (IM ~0.5-1.5 mg/kg;
# lozenges ~100-300 mg). A slip of a digit, 600 for 60 mg IM, was stored without a word
# (QA). Asked once, never refused; a clinical lead should confirm these figures.
ASK_ABOVE_MG_PER_KG = {Route.IM: 2.0, Route.SUBLINGUAL: 5.0}
# With no weight recorded: the same at a 75 kg adult; IV its usual 1 mg/kg at 100 kg.
ASK_ABOVE_MG = {Route.IV: 100.0, Route.IM: 150.0, Route.SUBLINGUAL: 400.0}


class UnusualDose(ValidationError):
    """A dose above the usual range for its route: a slip of a digit (680 for 68 mg) is
    caught before it is stored, and the clinician who meant it records it with Enter again."""


def unusual_dose(entry: DoseEntry, weight_kg: float | None, given_mg: float) -> str | None:
    """Why ``entry`` is above the usual range (CLINICAL.md), or None. ``given_mg``: what
    this session has recorded of the same drug and route before it."""
    before = f" with the {given_mg:g} mg already given" if given_mg else ""
    if entry.route is Route.IV and weight_kg:
        per_kg = (given_mg + entry.mg) / weight_kg
        low, high = IV_USUAL_MG_PER_KG
        if per_kg > high:
            amount = (
                f"{entry.mg:g} mg{before} makes {given_mg + entry.mg:g} mg, "
                if given_mg
                else f"{entry.mg:g} mg is "
            )
            return (
                f"{amount}{per_kg:.2f} mg/kg at {weight_kg:g} kg, above the usual "
                f"{low:g}–{high:g} mg/kg for an IV infusion."
            )
    if entry.drug is Drug.ESKETAMINE and entry.route is Route.INTRANASAL:
        total = given_mg + entry.mg
        if total > ESKETAMINE_USUAL_MAX_MG:
            return (
                f"{entry.mg:g} mg{before} makes {total:g} mg of esketamine this session, above "
                f"the usual {ESKETAMINE_USUAL_MAX_MG:g} mg (3 devices)."
            )
        return None
    route = {Route.IV: "IV infusion", Route.IM: "IM injection"}.get(
        entry.route, "sublingual lozenge"
    )
    total = given_mg + entry.mg
    made = f"{entry.mg:g} mg{before} makes {total:g} mg," if given_mg else f"{entry.mg:g} mg is"
    per_kg_limit = ASK_ABOVE_MG_PER_KG.get(entry.route)
    if per_kg_limit is not None and weight_kg:
        if total / weight_kg > per_kg_limit:
            return (
                f"{made} {total / weight_kg:.2f} mg/kg at {weight_kg:g} kg: above "
                f"{per_kg_limit:g} mg/kg, more than KAP gives by {route}."
            )
        return None
    limit = ASK_ABOVE_MG.get(entry.route)
    if not weight_kg and limit is not None and total > limit:
        return (
            f"{made} above {limit:g} mg, more than KAP gives by {route} (no weight is "
            "recorded to judge it by)."
        )
    return None


@dataclass(frozen=True)
class PatientDetails:
    display_name: str
    date_of_birth: dt.date | None
    record_number: str | None
    weight_kg: float | None


def validate_patient(
    display_name: Any,
    date_of_birth: Any = None,
    record_number: Any = None,
    weight_kg: Any = None,
    *,
    today: dt.date,
) -> PatientDetails:
    # Blanks of any kind as single spaces, as an account's name (tamper QA: a TAB and a
    # no-break space were kept as typed, a name that reads as another's).
    name = " ".join(
        clean_text(
            display_name,
            "The patient's name",
            limit=MAX_SHORT_TEXT_CHARS,
            one_line=True,
        ).split()
    )
    dob: dt.date | None = None
    if date_of_birth not in (None, ""):
        if isinstance(date_of_birth, dt.datetime) or not isinstance(date_of_birth, dt.date | str):
            raise ValidationError("date_of_birth", "Date of birth must be a date (YYYY-MM-DD).")
        if isinstance(date_of_birth, str):
            typed = date_of_birth.strip()
            try:
                dob = dt.date.fromisoformat(typed)
            except ValueError:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
                    # Written as asked, but no such day (QA: 1990-13-40 was told to be
                    # written YYYY-MM-DD).
                    raise ValidationError(
                        "date_of_birth",
                        f"Date of birth {typed} is not a day of the calendar: check the "
                        "month (01-12) and the day.",
                    ) from None
                raise ValidationError(
                    "date_of_birth", "Date of birth must be written YYYY-MM-DD, e.g. 1984-03-09."
                ) from None
        else:
            dob = date_of_birth
        if not dt.date(today.year - 120, 1, 1) <= dob <= today:
            raise ValidationError(
                "date_of_birth", "Date of birth must be in the past and within 120 years."
            )
    weight: float | None = None
    if weight_kg not in (None, ""):
        weight = _number(weight_kg, "weight_kg", "Weight")
        if not 20 <= weight <= 400:
            raise ValidationError(
                "weight_kg", f"Weight {weight:g} kg is outside 20–400 kg; check the value."
            )
    return PatientDetails(
        display_name=name,
        date_of_birth=dob,
        # Its own field named: a refused number took the keyboard to the name, and the
        # number retyped there replaced the patient's name (Xvfb QA).
        record_number=_single_spaced(
            clean_optional_text(record_number, "Record number", limit=60, field="record_number")
        ),
        weight_kg=weight,
    )


def _single_spaced(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


@dataclass(frozen=True)
class ScaleScore:
    scale_id: str
    answers: tuple[int, ...]
    total: int


def validate_scale_score(scale_id: Any, answers: Sequence[Any], total: Any = None) -> ScaleScore:
    """A scale score as items and total; a known scale's answers within its levels."""
    sid = clean_text(scale_id, "Scale", limit=40).strip()
    items: list[int] = []
    for index, answer in enumerate(answers, start=1):
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValidationError("answers", f"Item {index} must be a whole number.")
        items.append(answer)
    check_answers(sid, items)
    if total is None:
        if not items:
            raise ValidationError("answers", "A score needs item answers or a total.")
        total = sum(items)
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValidationError("total", "The total must be a whole number.")
    if items and total != sum(items):
        raise ValidationError(
            "total", f"The total {total} does not match the items, which add up to {sum(items)}."
        )
    return ScaleScore(scale_id=sid, answers=tuple(items), total=total)


# Thousands written the English way ("1,000", "12,500"), or a comma and a point both.
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+$|,.*\.|\..*,")


def _number(value: Any, field: str, label: str) -> float:
    # What to type, not only what is wrong ("Dose must be a number.", QA).
    wrong = f"{label} must be a number: type digits only, such as 50 or 0.5."
    if isinstance(value, bool):
        raise ValidationError(field, wrong)
    if isinstance(value, str):
        typed = value.strip()
        if _THOUSANDS.search(typed):
            # "1,000" read as 1 with the comma as a decimal point (tamper QA): a dose a
            # thousand times smaller than meant. A decimal comma ("0,5") is still read.
            if "." in typed:
                raise ValidationError(
                    field,
                    f"{label} “{typed}” has a comma and a point: type digits with one point "
                    "for a fraction, such as 0.5.",
                )
            whole, fraction = typed.replace(",", ""), format(float(typed.replace(",", ".")), "g")
            raise ValidationError(
                field,
                f"{label} “{typed}” could be read two ways: type {whole}, or {fraction} if "
                "the comma was a decimal point.",
            )
        if not DECIMAL.fullmatch(typed):
            raise ValidationError(field, wrong)
        value = float(typed.replace(",", "."))
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, wrong)
    return float(value)
