"""Self-report instruments (PHQ-9, GAD-7, PCL-5, the session reflection) and how they score.

The wording, answers, bands and rules live in TOML files (self_report_files.py reads them);
this module holds the plain data and applies CLINICAL.md, "Scales": score only when every
item is answered, keep the answers either way, and flag PHQ-9 item 9 whatever the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kapdesk.clinical.vitals import ValidationError

QuestionKind = Literal["choice", "text"]
Answer = int | str


@dataclass(frozen=True)
class Choice:
    value: Answer  # a whole number on a scored item; a number or a word otherwise
    text: str


@dataclass(frozen=True)
class Question:
    id: str  # "1".."9" for scale items; a word ("tone", "difficulty") otherwise
    text: str
    kind: QuestionKind
    choices: tuple[Choice, ...]  # empty for a free-text question
    scored: bool  # counts towards the total
    optional: bool  # the patient may skip it; never true of a scored item


@dataclass(frozen=True)
class Band:
    low: int  # inclusive
    high: int  # inclusive
    name: str


@dataclass(frozen=True)
class Cluster:
    id: str  # "B", "C", ...
    name: str
    items: tuple[str, ...]  # question ids


@dataclass(frozen=True)
class UrgentRule:
    """An item whose answer needs the clinician the same day, whatever the total."""

    item: str
    above: int
    message: str  # for the clinician


@dataclass(frozen=True)
class Instrument:
    id: str  # the file's stem: "phq9", "gad7", "pcl5", "reflection"
    name: str  # "PHQ-9"
    title: str  # "Patient Health Questionnaire (PHQ-9)"
    stem: str  # the lead-in the patient reads before the items
    questions: tuple[Question, ...]
    source: str
    score_range: tuple[int, int] | None = None  # None: not scored (the reflection)
    bands: tuple[Band, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    urgent: UrgentRule | None = None
    note: str = ""  # shown with the total, e.g. PCL-5's "a screen, not a diagnosis"
    note_source: str = ""

    @property
    def scored(self) -> bool:
        return self.score_range is not None

    @property
    def scored_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.scored)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise ValidationError(question_id, f"{self.name} has no question “{question_id}”.")

    def band_for(self, total: int) -> str | None:
        return next((b.name for b in self.bands if b.low <= total <= b.high), None)


@dataclass(frozen=True)
class Survey:
    """What the patient goes through in one sitting, in order."""

    id: str  # the file's stem: "after_session"
    name: str  # "After the session"
    instruments: tuple[str, ...]  # instrument ids


@dataclass(frozen=True)
class ScoreResult:
    instrument_id: str
    answers: Mapping[str, Answer]  # every answer given, kept whether or not it scores
    total: int | None = None  # None: not scored (missing items, or an unscored instrument)
    band: str | None = None
    clusters: Mapping[str, int] = field(default_factory=dict)  # cluster id -> subtotal
    missing: tuple[str, ...] = ()  # scored items left unanswered
    refused_reason: str | None = None  # why there is no total, for the clinician
    urgent: bool = False
    urgent_message: str | None = None


def score(instrument: Instrument, answers: Mapping[str, Answer | None]) -> ScoreResult:
    """The total, band and cluster subtotals when every scored item is answered.

    The urgent rule is checked on the answers given, so it fires on an incomplete form too.
    An answer that is not one of the item's choices raises ValidationError.
    """
    given = _checked(instrument, answers)
    urgent = _urgent_fires(instrument.urgent, given)
    message = instrument.urgent.message if urgent and instrument.urgent else None
    missing = tuple(q.id for q in instrument.scored_questions if q.id not in given)
    if not instrument.scored:
        return ScoreResult(instrument.id, given, urgent=urgent, urgent_message=message)
    if missing:
        return ScoreResult(
            instrument.id,
            given,
            missing=missing,
            refused_reason=_refusal(instrument.name, missing),
            urgent=urgent,
            urgent_message=message,
        )
    numbers = {q.id: int(given[q.id]) for q in instrument.scored_questions}
    total = sum(numbers.values())
    return ScoreResult(
        instrument.id,
        given,
        total=total,
        band=instrument.band_for(total),
        clusters={c.id: sum(numbers[i] for i in c.items) for c in instrument.clusters},
        urgent=urgent,
        urgent_message=message,
    )


def _checked(instrument: Instrument, answers: Mapping[str, Answer | None]) -> dict[str, Answer]:
    """The answers that were given, each checked against its question."""
    given: dict[str, Answer] = {}
    for question_id, value in answers.items():
        question = instrument.question(question_id)
        if value is None:
            continue
        if question.kind == "text":
            if not isinstance(value, str):
                raise ValidationError(
                    question.id, f"{instrument.name} “{question.id}” takes written text."
                )
            if value.strip():
                given[question.id] = value
            continue
        if not any(_same(choice.value, value) for choice in question.choices):
            allowed = ", ".join(str(choice.value) for choice in question.choices)
            raise ValidationError(
                question.id,
                f"{instrument.name} {_label(question.id)} has no answer {value!r}; "
                f"its answers are {allowed}.",
            )
        given[question.id] = value
    return given


def _same(choice: Answer, value: object) -> bool:
    # True == 1 in Python: a checkbox's bool must not pass for "Several days".
    return type(choice) is type(value) and choice == value


def _urgent_fires(rule: UrgentRule | None, given: Mapping[str, Answer]) -> bool:
    if rule is None:
        return False
    value = given.get(rule.item)
    return isinstance(value, int) and value > rule.above


def _refusal(name: str, missing: tuple[str, ...]) -> str:
    items = _label(missing[0]) if len(missing) == 1 else "items " + _joined(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"{name} is not scored: {items} {verb} unanswered, and a total needs every item. "
        "The answers given are kept."
    )


def _label(question_id: str) -> str:
    return f"item {question_id}" if question_id.isdigit() else f"“{question_id}”"


def _joined(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
