"""The patient's reflection survey (issue 13): the instruments a clinic uses, and one
sitting of a survey, each instrument stored as the patient moves past it, so nothing
answered is lost to a crash or to the clinician coming back early.

Answers are stored as session events ("self_report"), append-only like every entry: a
changed answer is a new response, and the session's latest response of an instrument is
the one the course counts. PHQ-9 item 9 above 0 is stored as an urgent alert at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kapdesk.clinical.self_report import Answer, Instrument, Question, ScoreResult, Survey, score
from kapdesk.clinical.self_report_files import load_instruments, load_surveys
from kapdesk.clinical.self_report_record import self_report_payload, urgent_alert_payload
from kapdesk.resources import resource

if TYPE_CHECKING:
    from kapdesk.session.service import SessionService

CLINIC_INSTRUMENTS = "instruments"  # folders inside the data folder, as for protocols
CLINIC_SURVEYS = "surveys"
DEFAULT_SURVEY = "after_session"


@dataclass(frozen=True)
class SurveyFiles:
    instruments: Mapping[str, Instrument]
    surveys: Mapping[str, Survey]
    problems: tuple[str, ...]


def clinic_surveys(data_folder: Path) -> SurveyFiles:
    """The shipped instruments and surveys, each replaced by a clinic's file of its name."""
    instruments = load_instruments([resource("instruments"), data_folder / CLINIC_INSTRUMENTS])
    surveys = load_surveys(
        [resource("surveys"), data_folder / CLINIC_SURVEYS], instruments.instruments
    )
    return SurveyFiles(
        instruments.instruments,
        surveys.surveys,
        tuple(instruments.problems + surveys.problems),
    )


@dataclass(frozen=True)
class Step:
    instrument: Instrument
    question: Question


@dataclass
class SurveyRun:
    """One sitting: the patient's answers so far, and what of them is stored."""

    service: SessionService
    survey: Survey
    instruments: Mapping[str, Instrument]
    answers: dict[str, dict[str, Answer | None]] = field(default_factory=dict)
    stored: dict[str, dict[str, Answer | None]] = field(default_factory=dict)
    urgent_alerts: list[uuid.UUID] = field(default_factory=list)
    steps: list[Step] = field(init=False)

    def __post_init__(self) -> None:
        self.steps = [
            Step(self.instruments[i], question)
            for i in self.survey.instruments
            for question in self.instruments[i].questions
        ]

    def answer(self, step: Step, value: Answer | None) -> None:
        """The patient's answer (None: skipped, or an empty text). An answer that meets
        the instrument's urgent rule (PHQ-9 item 9 above 0) is stored at once with its
        alert, before the form is finished: changed back, skipped or lost to a crash, it
        has still reached the record and the clinician (QA)."""
        if isinstance(value, str):
            value = value.strip() or None
        self.answers.setdefault(step.instrument.id, {})[step.question.id] = value
        rule = step.instrument.urgent
        if (
            rule is not None
            and step.question.id == rule.item
            and not self.urgent_alerts
            and score(step.instrument, self.answers[step.instrument.id]).urgent
        ):
            self.store(step.instrument, early=True)

    def answer_of(self, step: Step) -> Answer | None:
        return self.answers.get(step.instrument.id, {}).get(step.question.id)

    def leaving(self, step: Step, next_step: Step | None) -> None:
        """The patient moves on from ``step``: past an instrument's last question its
        answers are stored (again only if they changed)."""
        if next_step is None or next_step.instrument.id != step.instrument.id:
            self.store(step.instrument)

    def store(self, instrument: Instrument, *, early: bool = False) -> ScoreResult | None:
        """The instrument's answers as a response; ``early``: stored at its urgent answer,
        before the patient finished it. Each response says which it is ("stage"): one
        stored early and again as finished read as two administrations of the form (QA)."""
        answers = self.answers.get(instrument.id)
        if not answers or all(v is None for v in answers.values()):
            return None
        if self.stored.get(instrument.id) == answers:
            return None
        result = score(instrument, answers)
        # One alert a sitting: a changed answer that still meets the rule is the same
        # finding, already in front of the clinician.
        raise_alert = result.urgent and not self.urgent_alerts
        payload = self_report_payload(self.survey, instrument, result)
        if early:
            payload["stage"] = "early"
        elif instrument.id in self.stored:
            payload["stage"] = "again"  # replaces this sitting's earlier response
        alert = self.service.record_self_report(
            payload,
            urgent_alert_payload(instrument, result) if raise_alert else None,
        )
        self.stored[instrument.id] = dict(answers)
        if alert is not None:
            self.urgent_alerts.append(alert)
        return result

    def finish(self) -> None:
        """Store whatever was answered and not yet stored (the clinician came back early,
        or the last question was answered)."""
        for instrument_id in self.survey.instruments:
            self.store(self.instruments[instrument_id])
