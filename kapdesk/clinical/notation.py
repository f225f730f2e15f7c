"""The one-line vitals notation clinicians write on paper: ``132/84 76 97 rr 14 t 36.8``.

Order after the blood pressure is heart rate then SpO2, as charted by hand;
respiratory rate and temperature are always labelled (``rr``, ``t``) because
a bare number could be either. Parsing only splits the line; the values then
pass through validate_vitals like any other reading.
"""

from __future__ import annotations

import re

from kapdesk.clinical.vitals import VITAL_RANGES, ValidationError

_BP = re.compile(r"^(\S+)/(\S+)$")
_LABELS = {alias: name for name, rng in VITAL_RANGES.items() for alias in rng.aliases}
_BARE_ORDER = ("heart_rate", "spo2")
HINT = "Write it as 132/84 76 97, with rr 14 and t 36.8 if taken."


def parse_vitals_line(line: str) -> dict[str, str]:
    """Split a typed line into named raw values; raises ValidationError on a malformed line."""
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
        elif _looks_numeric(token):
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


def _put(values: dict[str, str], field: str, raw: str) -> None:
    if field in values:
        raise ValidationError("line", f"The line gives {field.replace('_', ' ')} twice. {HINT}")
    values[field] = raw


def _looks_numeric(token: str) -> bool:
    return bool(re.fullmatch(r"[0-9]+([.,][0-9]+)?", token))
