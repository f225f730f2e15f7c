"""Vital-sign readings and the one check every reading passes before it is stored.

The ranges are physiologic plausibility limits, not alert thresholds: a value
outside them is almost certainly a typing or device error, so it is refused
with a sentence that names the field and the range. Alert thresholds (the
clinic's caution and urgent levels from CLINICAL.md) are a separate concern.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any


class ValidationError(ValueError):
    """An entry the user typed cannot be stored; the message says why and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class VitalRange:
    """One vital sign: the one place its names, unit and plausible range are spelled."""

    field: str
    label: str  # in sentences: "Heart rate 300 /min is outside ..."
    unit: str
    low: float
    high: float
    integer: bool
    caption: str  # over an entry field: "HR"
    short: str  # in a written reading: "HR 76"
    suffix: str  # after the value in a written reading: "%", " °C"
    item: str  # what a protocol's check calls it: "bp", "hr", "spo2", "rr", "temp"
    aliases: tuple[str, ...] = ()  # labels the one-line notation accepts before a value


# Plausibility limits for an adult in a clinic chair (issue 2's table).
VITAL_RANGES: dict[str, VitalRange] = {
    r.field: r
    for r in (
        VitalRange("systolic", "Systolic pressure", "mmHg", 50, 300, True, "Sys", "BP", "", "bp"),
        VitalRange("diastolic", "Diastolic pressure", "mmHg", 20, 200, True, "Dia", "BP", "", "bp"),
        VitalRange(
            "heart_rate",
            "Heart rate",
            "/min",
            20,
            250,
            True,
            "HR",
            "HR",
            "",
            "hr",
            ("hr", "p", "pulse"),
        ),
        VitalRange(
            "spo2",
            "SpO2",
            "%",
            50,
            100,
            True,
            "SpO2",
            "SpO2",
            "%",
            "spo2",
            ("spo2", "sat", "sats", "o2"),
        ),
        VitalRange(
            "respiratory_rate",
            "Respiratory rate",
            "/min",
            4,
            60,
            True,
            "RR",
            "RR",
            "",
            "rr",
            ("rr", "resp"),
        ),
        VitalRange(
            "temperature_c",
            "Temperature",
            "°C",
            30.0,
            44.0,
            False,
            "T °C",
            "T",
            " °C",
            "temp",
            ("t", "temp"),
        ),
    )
}
# What protocols may name, in the order a reading is written.
VITAL_ITEMS: tuple[str, ...] = tuple(dict.fromkeys(r.item for r in VITAL_RANGES.values()))


@dataclass(frozen=True, slots=True)
class VitalsReading:
    """One set of vital signs taken together; any field may be missing, but not all."""

    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    temperature_c: float | None = None

    def as_dict(self) -> dict[str, int | float | None]:
        return {name: getattr(self, name) for name in _FIELDS}

    @property
    def has_bp(self) -> bool:
        return self.systolic is not None and self.diastolic is not None

    @property
    def items(self) -> frozenset[str]:
        """What of a protocol's check this reading holds ("bp", "hr", ...)."""
        # In VITAL_RANGES' order (a test holds the two orders together).
        return _items_of(
            (
                self.systolic is not None,
                self.diastolic is not None,
                self.heart_rate is not None,
                self.spo2 is not None,
                self.respiratory_rate is not None,
                self.temperature_c is not None,
            )
        )

    def describe(self) -> str:
        return describe_vitals(self.as_dict())

    @property
    def mean_arterial_pressure(self) -> float | None:
        if self.systolic is None or self.diastolic is None:
            return None
        return float(mean_arterial(self.systolic, self.diastolic))


def mean_arterial(systolic: Any, diastolic: Any) -> Any:
    """MAP = diastolic + (systolic - diastolic) / 3 (CLINICAL.md, ACC/AHA section): of one
    reading, or of columns of them at once (numpy arrays; NaN where one is missing)."""
    return diastolic + (systolic - diastolic) / 3


def highest_pressures(
    pressures: Sequence[tuple[int | None, int | None]],
) -> tuple[int | None, int | None]:
    """Where among ``pressures`` (systolic, diastolic) the highest blood pressure is,
    ranked by systolic then diastolic; and where the highest diastolic is (by diastolic,
    then systolic) when it is higher than that reading's, else None: 150/112 is urgent by
    its diastolic alone beside 165/100 (QA). Places in ``pressures``, the first of equals;
    a reading without a systolic has no blood pressure. The one rule for the end summary,
    the patients page and the course of treatment."""
    highest: tuple[int, int] | None = None  # (systolic, diastolic or 0)
    by_diastolic: tuple[int, int] | None = None  # (diastolic, systolic)
    highest_at = diastolic_at = None
    for index, (systolic, diastolic) in enumerate(pressures):
        if systolic is None:
            continue
        if highest is None or (systolic, diastolic or 0) > highest:
            highest, highest_at = (systolic, diastolic or 0), index
        if diastolic is not None and (by_diastolic is None or (diastolic, systolic) > by_diastolic):
            by_diastolic, diastolic_at = (diastolic, systolic), index
    if highest is None or by_diastolic is None or by_diastolic[0] <= highest[1]:
        diastolic_at = None
    return highest_at, diastolic_at


@functools.cache
def _items_of(present: tuple[bool, ...]) -> frozenset[str]:
    """The items of a reading holding the VITAL_RANGES fields marked present: one set
    per combination, made once (a six-hour session asks for 21,600 readings' items)."""
    return frozenset(
        r.item for r, there in zip(VITAL_RANGES.values(), present, strict=True) if there
    )


# Digits with at most one decimal point or comma: what Python's float() takes besides
# ("50_0" as 500, "5e1" as 50, "nan", "infinity") is not a number a clinician types
# (tamper QA: "50_0" was stored as a 500 mg dose).
DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def _coerce(rng: VitalRange, value: Any) -> int | float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError(rng.field, f"{rng.label} must be a number.")
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not DECIMAL.fullmatch(text):  # "1_20" was read as 120 (tamper QA)
            raise ValidationError(
                rng.field, f"{rng.label} “{value.strip()[:20]}” is not a number; type digits only."
            )
        number = float(text)
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValidationError(rng.field, f"{rng.label} must be a number.")
    if not math.isfinite(number):
        raise ValidationError(rng.field, f"{rng.label} must be a finite number.")
    if rng.integer:
        if number != int(number):
            raise ValidationError(rng.field, f"{rng.label} must be a whole number of {rng.unit}.")
        number = int(number)
    if not rng.low <= number <= rng.high:
        low = int(rng.low) if rng.integer else rng.low
        high = int(rng.high) if rng.integer else rng.high
        raise ValidationError(
            rng.field,
            f"{rng.label} {_show(number)} {rng.unit} is outside {low}–{high} {rng.unit}; "
            "check the value and enter it again.",
        )
    return number


def _show(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


def validate_vitals(values: Mapping[str, Any]) -> VitalsReading:
    """Return a reading built from ``values`` or raise ValidationError naming the first problem.

    Accepts numbers or the strings a user typed. Unknown keys are refused so a
    misspelt field cannot silently drop a value.
    """
    unknown = sorted(set(values) - set(VITAL_RANGES))
    if unknown:
        raise ValidationError(unknown[0], f"“{unknown[0]}” is not a vital sign kapdesk records.")
    clean = {name: _coerce(rng, values.get(name)) for name, rng in VITAL_RANGES.items()}
    if all(v is None for v in clean.values()):
        raise ValidationError("systolic", "Enter at least one vital sign.")
    systolic, diastolic = clean["systolic"], clean["diastolic"]
    if (systolic is None) != (diastolic is None):
        missing = "diastolic" if diastolic is None else "systolic"
        raise ValidationError(
            missing, "Blood pressure needs both numbers, systolic/diastolic (e.g. 128/82)."
        )
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise ValidationError(
            "diastolic",
            f"Diastolic {_show(diastolic)} must be below systolic {_show(systolic)}; "
            "check the order (systolic/diastolic).",
        )
    return VitalsReading(
        systolic=_int_or_none(systolic),
        diastolic=_int_or_none(diastolic),
        heart_rate=_int_or_none(clean["heart_rate"]),
        spo2=_int_or_none(clean["spo2"]),
        respiratory_rate=_int_or_none(clean["respiratory_rate"]),
        temperature_c=None if clean["temperature_c"] is None else float(clean["temperature_c"]),
    )


def _int_or_none(value: int | float | None) -> int | None:
    return None if value is None else int(value)


def describe_vitals(values: Mapping[str, Any]) -> str:
    """A reading as clinicians write it: ``BP 132/84  HR 76  SpO2 97%  RR 14  T 36.8 °C``."""
    parts = []
    if values.get("systolic") is not None:
        parts.append(f"BP {values['systolic']}/{values['diastolic']}")
    for name, rng in VITAL_RANGES.items():
        if rng.item != "bp" and values.get(name) is not None:
            parts.append(f"{rng.short} {values[name]:g}{rng.suffix}")
    return "  ".join(parts)


_FIELDS = tuple(f.name for f in fields(VitalsReading))


class UnusualReading(ValidationError):
    """A typed reading inside the plausible ranges but at their edge, where a slip of the
    keys (300/20 for 130/80) is likelier than a measurement: asked about before it is
    stored, and recorded by the clinician who meant it with Enter again."""


# The edge of the plausible: not CLINICAL.md thresholds (those raise alerts on what is
# stored), and not refused (VITAL_RANGES does that), only asked about once when typed.
UNUSUAL_SYSTOLIC_FROM = 250  # mmHg
UNUSUAL_DIASTOLIC_UP_TO = 30  # mmHg
UNUSUAL_PULSE_PRESSURE_FROM = 150  # systolic - diastolic, mmHg
UNUSUAL_HEART_RATE = (30, 200)  # /min: at or below, at or above


def unusual_reading(reading: VitalsReading) -> str | None:
    """What in ``reading`` is at the edge of the plausible, as the sentence that asks about
    it, or None."""
    said = []
    systolic, diastolic = reading.systolic, reading.diastolic
    if systolic is not None and systolic >= UNUSUAL_SYSTOLIC_FROM:
        said.append(f"systolic {systolic}")
    if diastolic is not None and diastolic <= UNUSUAL_DIASTOLIC_UP_TO:
        said.append(f"diastolic {diastolic}")
    if (
        systolic is not None
        and diastolic is not None
        and systolic - diastolic >= UNUSUAL_PULSE_PRESSURE_FROM
    ):
        said.append(f"{systolic - diastolic} mmHg between them")
    rate = reading.heart_rate
    if rate is not None and not UNUSUAL_HEART_RATE[0] < rate < UNUSUAL_HEART_RATE[1]:
        said.append(f"heart rate {rate}")
    if not said:
        return None
    return f"Rarely measured: {', '.join(said)}. Check the reading; Enter again records it."
