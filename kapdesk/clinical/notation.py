"""The one-line vitals notation clinicians write on paper: ``132/84 76 97 rr 14 t 36.8``.

Order after the blood pressure is heart rate then SpO2, as charted by hand;
respiratory rate and temperature are always labelled (``rr``, ``t``) because
a bare number could be either. A number without a label is read only after a
blood pressure: alone, "132" is a systolic missing its diastolic far more often
than a heart rate, and "120 80" is a blood pressure typed with a space (issue 9).
Without a BP every value is labelled: ``hr 72``, ``p 72``, ``spo2 97``. A reading taken
earlier than it is typed gives its clock time: ``132/84 76 at 10:05``. Parsing only
splits the line; the values then pass through validate_vitals like any other reading.
"""

from __future__ import annotations

import re
import unicodedata

from kapdesk.clinical.vitals import VITAL_RANGES, ValidationError, validate_vitals

_BP = re.compile(r"^([^\s/]+)/([^\s/]+)$")
_LABELS = {alias: name for name, rng in VITAL_RANGES.items() for alias in rng.aliases}
_BARE_ORDER = ("heart_rate", "spo2")
HINT = "Write it as 132/84 76 97, with rr 14 and t 36.8 if taken."
LABEL_HINT = "Without a blood pressure, label each value: hr 72 (or p 72), spo2 97, rr 14, t 36.8."


def parse_vitals_line(line: str) -> dict[str, str]:
    """Split a typed line into named raw values; raises ValidationError on a malformed line."""
    line = _plain_digits(line)
    # A comma between digits is a decimal comma (36,8); elsewhere it separates values.
    tokens = re.sub(r",(?!\d)", " ", line).replace("%", " ").split()
    if not tokens:
        raise ValidationError("line", f"Nothing to record. {HINT}")
    values: dict[str, str] = {}
    bare = list(_BARE_ORDER)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower().rstrip(":=")
        label = _LABELS.get(lowered)
        match = _BP.match(token)
        if lowered in {"bp", "b/p"} and index + 1 < len(tokens) and _BP.match(tokens[index + 1]):
            # "BP 120/80": moved here from the Observation line as a reading, and then
            # refused here as "“BP” is not part of a reading" (Xvfb QA).
            index += 1
            continue
        if match:
            _put(values, "systolic", match.group(1))
            _put(values, "diastolic", match.group(2))
        elif label is not None:
            if index + 1 >= len(tokens):
                raise ValidationError("line", f"“{token}” needs a number after it. {HINT}")
            index += 1
            _put(values, label, tokens[index])
            if label in bare:
                bare.remove(label)
        elif token.count("/") > 1:
            # "120/80/70" was read as a systolic "120/80", and called not a number (QA).
            raise ValidationError(
                "line", f"“{token}” has more than one slash: a blood pressure is 120/80. {HINT}"
            )
        elif _looks_numeric(token):
            if "systolic" not in values:
                raise ValidationError("line", _unlabelled(tokens, index))
            if not bare:
                raise ValidationError(
                    "line",
                    f"The number {token} has no place: after heart rate and SpO2, label "
                    f"respiratory rate and temperature. {HINT}",
                )
            _put(values, bare.pop(0), token)
        else:
            raise ValidationError("line", f"“{token}” is not part of a reading. {HINT}")
        index += 1
    return values


def _plain_digits(line: str) -> str:
    """Digits of any script as 0-9, and full-width forms as plain ("１２０／８０" is
    120/80): the blood pressure in them was stored, an SpO2 so typed refused (tamper QA)."""
    line = unicodedata.normalize("NFKC", line)
    if line.isascii():
        return line
    return "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in line
    )


_AT_WORDS = frozenset({"at", "@"})
_BARE_CLOCK = re.compile(r"^[0-9]{1,2}:[0-9]{2}$")


def split_clock_time(line: str) -> tuple[str, str | None]:
    """A reading taken earlier than it is typed names its clock time on the line:
    ``132/84 76 at 10:05`` (or ``@10:05``, or ``10:05`` alone, its colon saying what it
    is). Returns the line without it, and the time as typed (None: taken now); raises
    ValidationError for "at" without a time, or two times."""
    tokens = line.split()
    rest: list[str] = []
    found: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.lower()
        if word in _AT_WORDS:
            if index + 1 >= len(tokens):
                raise ValidationError("line", f"“{token}” needs the time after it: at 10:05.")
            found.append(tokens[index + 1])
            index += 2
            continue
        if word.startswith("@") or _BARE_CLOCK.match(token):
            found.append(token.removeprefix("@"))
        else:
            rest.append(token)
        index += 1
    if len(found) > 1:
        raise ValidationError("line", f"The line gives two times ({found[0]} and {found[1]}).")
    return " ".join(rest), (found[0] if found else None)


def reads_as_vitals(text: str) -> bool:
    """Whether ``text`` is written in the vitals notation (``120/80 76 97``, ``BP 150/90 HR
    88``, ``spo2 91``), with or without plausible values: typed into the observation line
    it would be stored as words, never checked, charted or alerted on (issue 10 QA)."""
    tokens = text.split()
    if tokens and tokens[0].lower().rstrip(":=") in {"bp", "b/p"}:
        tokens = tokens[1:]
    try:
        return bool(parse_vitals_line(split_clock_time(" ".join(tokens))[0]))
    except ValidationError:
        return False


def leading_reading(text: str) -> tuple[str, str] | None:
    """A note that begins with a reading (``186/114 98 headache``): the reading, and the
    words after it; None if it does not. Stored as words the reading is never charted
    or checked against the alert levels (QA: an urgent 186/114 went in as a note). The
    start counts as a reading if it holds a blood pressure, or its values are plausible
    (``p 5 minutes later`` is words)."""
    if reads_as_vitals(text):
        return None  # all of it is the reading
    tokens = text.split()
    start = 1 if tokens and tokens[0].lower().rstrip(":=") in {"bp", "b/p"} else 0
    for end in range(len(tokens) - 1, start, -1):
        head = " ".join(tokens[start:end])
        try:
            values = parse_vitals_line(split_clock_time(head)[0])
        except ValidationError:
            continue
        if "systolic" not in values:
            try:
                validate_vitals(values)
            except ValidationError:
                continue
        return head, " ".join(tokens[end:])
    return None


# A blood pressure among words: "pt hypertensive 186/114, headache", "186 / 114".
_PRESSURE = re.compile(r"(?<![\d/.,])(\d{2,3})\s*/\s*(\d{2,3})(?![\d/]|[.,]\d)")


def pressure_within(text: str) -> tuple[int, int] | None:
    """The first blood pressure written among a note's words, within the plausible
    ranges (VITAL_RANGES) and systolic above diastolic, so a date ("27/11") or a pain
    score ("7/10") is not one; None if there is none."""
    low_s, high_s = VITAL_RANGES["systolic"].low, VITAL_RANGES["systolic"].high
    low_d, high_d = VITAL_RANGES["diastolic"].low, VITAL_RANGES["diastolic"].high
    for found in _PRESSURE.finditer(text):
        systolic, diastolic = int(found.group(1)), int(found.group(2))
        if low_s <= systolic <= high_s and low_d <= diastolic <= high_d and systolic > diastolic:
            return systolic, diastolic
    return None


def _unlabelled(tokens: list[str], index: int) -> str:
    """The refusal of a number with no label and no blood pressure before it."""
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following is not None and _looks_numeric(following):
        if _in_range("systolic", token) and _in_range("diastolic", following):
            advice = f"For a blood pressure write {token}/{following}."
        else:
            # Not offered as a pressure it cannot be ("1208 76": "write 1208/76", QA).
            field = "diastolic" if _in_range("systolic", token) else "systolic"
            rng = VITAL_RANGES[field]
            advice = (
                f"{token}/{following} is not a blood pressure ({field} {rng.low:g}–{rng.high:g}"
                " mmHg): write it as systolic/diastolic, e.g. 132/84."
            )
        return (
            f"“{token} {following}” has no label and no blood pressure before it. {advice} "
            f"{LABEL_HINT}"
        )
    return (
        f"The number {token} has no label and no blood pressure before it: is it a systolic "
        f"without its diastolic (write {token}/84), or a heart rate (write hr {token})? "
        f"{LABEL_HINT}"
    )


def _put(values: dict[str, str], field: str, raw: str) -> None:
    if field in values:
        raise ValidationError("line", f"The line gives {field.replace('_', ' ')} twice. {HINT}")
    values[field] = raw


def _in_range(field: str, token: str) -> bool:
    rng = VITAL_RANGES[field]
    try:
        return rng.low <= float(token.replace(",", ".")) <= rng.high
    except ValueError:
        return False


def _looks_numeric(token: str) -> bool:
    return bool(re.fullmatch(r"[0-9]+([.,][0-9]+)?", token))
