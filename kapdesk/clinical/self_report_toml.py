"""One self-report instrument or survey from the text of its TOML file, checked strictly:
a typo in a scale is a wrong score that nobody sees.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from kapdesk.clinical.self_report import (
    Answer,
    Band,
    Choice,
    Cluster,
    Instrument,
    Question,
    Survey,
    UrgentRule,
)

INSTRUMENT_KEYS = {
    "name", "title", "stem", "source", "score_range", "choices", "questions", "bands",
    "clusters", "urgent", "note", "note_source",
}  # fmt: skip
QUESTION_KEYS = {"id", "text", "kind", "choices", "scored", "optional"}


class InstrumentFileError(ValueError):
    """A file that parses as TOML but is not a usable instrument or survey."""

    def __init__(self, message: str, key: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.key = key
        self.value = value  # with key, finds the line `key = value` (a question's id)


def parse_instrument(text: str, instrument_id: str) -> Instrument:
    data = tomllib.loads(text)
    _only(data, INSTRUMENT_KEYS, "an instrument")
    scored = "score_range" in data
    shared = _choices(data["choices"], "choices") if "choices" in data else ()
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise InstrumentFileError("needs at least one [[questions]] table", "questions")
    questions = tuple(_question(raw, shared, scored) for raw in raw_questions)
    ids = [q.id for q in questions]
    for question_id in ids:
        if ids.count(question_id) > 1:
            raise InstrumentFileError(
                f"question id “{question_id}” is used twice", "id", question_id
            )
    score_range: tuple[int, int] | None = None
    bands: tuple[Band, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    if scored:
        score_range = _score_range(data["score_range"], questions)
        bands = _bands(data.get("bands", []), score_range)
        clusters = _clusters(data.get("clusters", []), questions)
    else:
        for key in ("bands", "clusters"):
            if key in data:
                raise InstrumentFileError(f"{key} need a score_range", key)
    note = _text(data, "note", required=False)
    if note and not _text(data, "note_source", required=False):
        raise InstrumentFileError("a note needs a note_source saying where it comes from", "note")
    return Instrument(
        id=instrument_id,
        name=_text(data, "name"),
        title=_text(data, "title", required=False) or _text(data, "name"),
        stem=_text(data, "stem"),
        questions=questions,
        source=_text(data, "source"),
        score_range=score_range,
        bands=bands,
        clusters=clusters,
        urgent=_urgent(data["urgent"], questions) if "urgent" in data else None,
        note=note,
        note_source=_text(data, "note_source", required=False),
    )


def parse_survey(text: str, survey_id: str, instruments: Mapping[str, Instrument]) -> Survey:
    data = tomllib.loads(text)
    _only(data, {"name", "instruments"}, "a survey")
    names = data.get("instruments")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise InstrumentFileError("instruments must list at least one instrument id", "instruments")
    for name in names:
        if name not in instruments:
            known = ", ".join(sorted(instruments)) or "none"
            raise InstrumentFileError(
                f"names an instrument “{name}” that is not loaded (loaded: {known})", "instruments"
            )
        if names.count(name) > 1:
            raise InstrumentFileError(f"names “{name}” twice", "instruments")
    return Survey(id=survey_id, name=_text(data, "name"), instruments=tuple(names))


def _question(raw: Any, shared: tuple[Choice, ...], instrument_scored: bool) -> Question:
    if not isinstance(raw, dict):
        raise InstrumentFileError("each [[questions]] entry must be a table", "questions")
    question_id = raw.get("id")
    if not isinstance(question_id, str) or not question_id.strip():
        raise InstrumentFileError('each question needs an id in quotes, e.g. id = "1"', "id")
    where = f"question “{question_id}”"

    def fail(problem: str) -> InstrumentFileError:
        return InstrumentFileError(f"{where}{problem}", "id", question_id)

    _only(raw, QUESTION_KEYS, where, question_id)
    kind = raw.get("kind", "choice")
    if kind not in ("choice", "text"):
        raise fail(': kind must be "choice" or "text"')
    if kind == "text" and "choices" in raw:
        raise fail(": a text question has no choices")
    choices: tuple[Choice, ...] = ()
    if kind == "choice":
        choices = _choices(raw["choices"], "id", question_id) if "choices" in raw else shared
        if not choices:
            raise fail(" has no choices")
    scored = _flag(raw, "scored", instrument_scored and kind == "choice", question_id)
    optional = _flag(raw, "optional", False, question_id)
    if scored and not instrument_scored:
        raise fail(" is scored, but the instrument has no score_range")
    if scored and kind == "text":
        raise fail(": written text cannot be scored")
    if scored and optional:
        raise fail(": a scored item cannot be optional, since a total needs every item")
    if scored and not all(type(c.value) is int for c in choices):
        raise fail(" is scored, so every answer value must be a whole number")
    text = _text(raw, "text", where, line=("id", question_id))
    return Question(question_id, text, kind, choices, scored, optional)


def _choices(raw: Any, key: str, question_id: str | None = None) -> tuple[Choice, ...]:
    where = f"question “{question_id}”: choices" if question_id else "choices"

    def fail(problem: str) -> InstrumentFileError:
        return InstrumentFileError(f"{where}{problem}", key, question_id)

    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(c, dict) for c in raw):
        raise fail(" must list at least two { value, text }")
    choices = []
    for entry in raw:
        value = entry.get("value")
        if set(entry) != {"value", "text"} or type(value) not in (int, str):
            raise fail(": each needs a value (a whole number or a word) and a text, nothing else")
        choices.append(Choice(value, _text(entry, "text", where, line=(key, question_id))))
    values: list[Answer] = [c.value for c in choices]
    if len(set(values)) != len(values):
        raise fail(": a value is used twice")
    return tuple(choices)


def _score_range(raw: Any, questions: tuple[Question, ...]) -> tuple[int, int]:
    if not (isinstance(raw, list) and len(raw) == 2 and all(type(v) is int for v in raw)):
        raise InstrumentFileError(
            "score_range must be [lowest, highest] whole numbers", "score_range"
        )
    scored = [[int(c.value) for c in q.choices] for q in questions if q.scored]
    if not scored:
        raise InstrumentFileError("has a score_range but no scored question", "score_range")
    possible = (sum(min(v) for v in scored), sum(max(v) for v in scored))
    if tuple(raw) != possible:
        raise InstrumentFileError(
            f"score_range {raw[0]}-{raw[1]} does not match the scored items' answers, which "
            f"add up to {possible[0]}-{possible[1]}",
            "score_range",
        )
    return possible


def _bands(raw: Any, score_range: tuple[int, int]) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise InstrumentFileError("bands must be [[bands]] tables", "bands")
    bands = []
    expected_low = score_range[0]
    for entry in raw:
        low, high = entry.get("low"), entry.get("high")
        _only(entry, {"low", "high", "name"}, "a band", low, "low")
        if type(low) is not int or type(high) is not int or low > high:
            raise InstrumentFileError("each band needs whole numbers low <= high", "low", low)
        if low != expected_low:
            raise InstrumentFileError(
                f"band {low}-{high} should start at {expected_low}: bands must run in order "
                "with no gap or overlap",
                "low",
                low,
            )
        bands.append(Band(low, high, _text(entry, "name", "a band", line=("low", low))))
        expected_low = high + 1
    if bands and bands[-1].high != score_range[1]:
        raise InstrumentFileError(f"the last band must end at {score_range[1]}", "bands")
    return tuple(bands)


def _clusters(raw: Any, questions: tuple[Question, ...]) -> tuple[Cluster, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise InstrumentFileError("clusters must be [[clusters]] tables", "clusters")
    scored = {q.id for q in questions if q.scored}
    seen: set[str] = set()
    clusters = []
    for entry in raw:
        _only(entry, {"id", "name", "items"}, "a cluster", entry.get("id"))
        cluster_id, items = (
            _text(entry, "id", "a cluster", line=("clusters", None)),
            entry.get("items"),
        )
        if not isinstance(items, list) or not items or not set(items) <= scored:
            raise InstrumentFileError(
                f"cluster “{cluster_id}”: items must list scored question ids", "id", cluster_id
            )
        if seen & set(items) or len(set(items)) != len(items):
            raise InstrumentFileError(
                f"cluster “{cluster_id}” repeats an item already counted", "id", cluster_id
            )
        seen |= set(items)
        name = _text(entry, "name", "a cluster", line=("id", cluster_id))
        clusters.append(Cluster(cluster_id, name, tuple(items)))
    return tuple(clusters)


def _urgent(raw: Any, questions: tuple[Question, ...]) -> UrgentRule:
    if not isinstance(raw, dict):
        raise InstrumentFileError("[urgent] must be a table", "urgent")
    _only(raw, {"item", "above", "message"}, "[urgent]")
    item, above = raw.get("item"), raw.get("above")
    question = next((q for q in questions if q.id == item and q.kind == "choice"), None)
    if question is None or not all(type(c.value) is int for c in question.choices):
        raise InstrumentFileError(
            "urgent item must be the id of a question with numbered answers", "item"
        )
    values = [int(c.value) for c in question.choices]
    if type(above) is not int or not min(values) <= above < max(values):
        raise InstrumentFileError(
            f"urgent above must be a whole number from {min(values)} to {max(values) - 1}, "
            "so that some answers fire and some do not",
            "above",
        )
    return UrgentRule(question.id, above, _text(raw, "message", "[urgent]"))


def _only(
    raw: dict[str, Any], allowed: set[str], where: str, value: object = None, key: str = "id"
) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InstrumentFileError(
            f"{where} has “{unknown[0]}”, which kapdesk does not know (a typo?)",
            unknown[0] if value is None else key,
            value,
        )


def _flag(raw: dict[str, Any], key: str, default: bool, question_id: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise InstrumentFileError(
            f"question “{question_id}”: {key} must be true or false", "id", question_id
        )
    return value


def _text(
    raw: dict[str, Any],
    key: str,
    where: str = "",
    required: bool = True,
    line: tuple[str, object] | None = None,
) -> str:
    """A non-empty sentence; ``line`` is the (key, value) that finds the entry's line."""
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        prefix = f"{where}: " if where else ""
        raise InstrumentFileError(f"{prefix}{key} is missing or empty", *(line or (key,)))
    return value.strip()
