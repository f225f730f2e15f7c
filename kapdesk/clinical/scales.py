"""Sedation scales with their full level wording (CLINICAL.md, "Scales"), and the REMS check.

CADSS item text is not shipped: its licence is not confirmed (CLINICAL.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kapdesk.clinical.alerts import EMERGENCY_SIGNS
from kapdesk.clinical.vitals import ValidationError


@dataclass(frozen=True)
class ScaleLevel:
    value: int
    text: str
    shortcut: str


@dataclass(frozen=True)
class Scale:
    id: str
    name: str
    levels: tuple[ScaleLevel, ...]
    resolved: int  # the level at which sedation counts as resolved

    def level(self, value: int) -> ScaleLevel:
        for level in self.levels:
            if level.value == value:
                return level
        values = ", ".join(str(level.value) for level in self.levels)
        raise ValidationError(
            self.id, f"{self.name} has no level {value}; its levels are {values}."
        )

    def label(self, value: int) -> str:
        """The level as the log reads it. A value the scale does not have (a record from
        before check_answers, or altered) is said, not raised: a session holding one
        could not be opened or reported (issue 10 QA)."""
        sign = "+" if self.id == "rass" and value > 0 else ""
        known = next((level for level in self.levels if level.value == value), None)
        if known is None:
            return f"{self.name} {sign}{value}: not a level of {self.name}; correct this entry"
        return f"{self.name} {sign}{value}: {known.text}"


# One chord per level: Alt+digit for MOAA/S; Ctrl+digit for RASS +1..+4 and Ctrl+Alt+digit
# for RASS 0..-5 (no Shift+digit: it differs between keyboard layouts). Not Ctrl+0: it is
# every program's "normal text size", and after Ctrl+- it recorded "RASS 0: alert and
# calm", which meets a discharge criterion (Xvfb QA); it is the text size here too.
MOAAS = Scale(
    id="moaas",
    name="MOAA/S",
    resolved=5,
    levels=tuple(
        ScaleLevel(value, text, f"Alt+{value}")
        for value, text in (
            (5, "responds readily to name spoken in normal tone"),
            (4, "lethargic response to name spoken in normal tone"),
            (3, "responds only after name is called loudly and/or repeatedly"),
            (2, "responds only after mild prodding or shaking"),
            (1, "responds only after painful trapezius squeeze"),
            (0, "does not respond to painful trapezius squeeze"),
        )
    ),
)

RASS = Scale(
    id="rass",
    name="RASS",
    resolved=0,
    levels=tuple(
        ScaleLevel(value, text, f"Ctrl+{value}" if value > 0 else f"Ctrl+Alt+{-value}")
        for value, text in (
            (4, "combative"),
            (3, "very agitated"),
            (2, "agitated"),
            (1, "restless"),
            (0, "alert and calm"),
            (-1, "drowsy"),
            (-2, "light sedation"),
            (-3, "moderate sedation"),
            (-4, "deep sedation"),
            (-5, "unarousable"),
        )
    ),
)

SCALES = {scale.id: scale for scale in (MOAAS, RASS)}

# The REMS Patient Monitoring Form's yes/no questions (CLINICAL.md, REMS section),
# stored as a score: 1 = yes, in this order.
REMS_CHECK_ID = "rems"
REMS_QUESTIONS = ("Sedation", "Dissociation", "Respiratory depression")


def check_answers(scale_id: str, answers: Sequence[int]) -> None:
    """Refuse answers a known scale cannot have, before anything is stored: a level the
    scale does not have, or a REMS check not of three yes/no answers. A correction to
    MOAA/S 9 was stored, then refused only when drawn, and its session could no longer
    be opened or reported (issue 10 QA). Other ids (none are written today) pass."""
    scale = SCALES.get(scale_id)
    if scale is not None:
        if len(answers) != 1:
            raise ValidationError("answers", f"A {scale.name} score is one level.")
        scale.level(answers[0])
    elif scale_id == REMS_CHECK_ID and (
        len(answers) != len(REMS_QUESTIONS) or any(a not in (0, 1) for a in answers)
    ):
        raise ValidationError(
            "answers",
            "A REMS check is three yes/no answers (1 yes, 0 no): "
            + ", ".join(REMS_QUESTIONS).lower()
            + ".",
        )


# A score that is an emergency sign (CLINICAL.md, "Default thresholds": "reduced
# consciousness" and "shortness of breath" mean emergency care regardless of numbers):
# MOAA/S 1 or 0 (responds only to a painful squeeze, or not at all), RASS -4 or -5 (deep
# sedation, unarousable), and respiratory depression seen at a REMS check. Lighter
# sedation is charted and weighed at discharge, never alerted on here: that threshold is
# a clinical lead's.
MOAAS_EMERGENCY_AT_MOST = 1
RASS_EMERGENCY_AT_MOST = -4
_EMERGENCY_SIGNS = "Emergency care regardless of numbers for: " + ", ".join(EMERGENCY_SIGNS) + "."


def emergency_sign(scale_id: str, answers: Sequence[int]) -> dict[str, str] | None:
    """The urgent alert a score calls for (rule, level, reading, reason, action), or None."""
    if scale_id == REMS_CHECK_ID:
        if len(answers) == len(REMS_QUESTIONS) and answers[2] == 1:
            return {
                "rule": "rems_respiratory_depression",
                "level": "urgent",
                "reading": "REMS check: respiratory depression yes",
                "reason": "Respiratory depression seen at the REMS check",
                "action": "Stay with the patient; check breathing and SpO2 now and escalate "
                "per clinic protocol. " + _EMERGENCY_SIGNS,
            }
        return None
    scale = SCALES.get(scale_id)
    if scale is None or len(answers) != 1:
        return None
    value = answers[0]
    limit = {"moaas": MOAAS_EMERGENCY_AT_MOST, "rass": RASS_EMERGENCY_AT_MOST}.get(scale_id)
    if limit is None or value > limit:
        return None
    return {
        "rule": f"{scale_id}_reduced_consciousness",
        "level": "urgent",
        "reading": scale.label(value),
        "reason": f"{scale.label(value)}: reduced consciousness",
        "action": "Stay with the patient; check the airway, breathing and SpO2 now and "
        "escalate per clinic protocol. " + _EMERGENCY_SIGNS,
    }
