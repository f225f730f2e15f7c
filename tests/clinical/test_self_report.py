"""The shipped self-report instruments: their wording, their scoring at every band
boundary, the item 9 rule, and how a clinic's files are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdesk.clinical.self_report import Instrument, score
from kapdesk.clinical.self_report_files import load_instruments, load_surveys
from kapdesk.clinical.vitals import ValidationError

RESOURCES = Path(__file__).resolve().parents[2] / "kapdesk" / "resources"
INSTRUMENTS = RESOURCES / "instruments"
SURVEYS = RESOURCES / "surveys"

# The published wording (CLINICAL.md, "Self-report wording (reproduce exactly)"), copied here
# so that an edit to a shipped file cannot pass unnoticed.
FREQUENCY = [
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
]
PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
PHQ9_DIFFICULTY = (
    "If you checked off any problems, how difficult have these problems made it for you to "
    "do your work, take care of things at home, or get along with other people?"
)
PHQ9_DIFFICULTY_ANSWERS = [
    "Not difficult at all",
    "Somewhat difficult",
    "Very difficult",
    "Extremely difficult",
]
GAD7_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7_ITEMS = [
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
]
PCL5_STEM = "In the past month, how much were you bothered by:"
PCL5_ANSWERS = [
    (0, "Not at all"),
    (1, "A little bit"),
    (2, "Moderately"),
    (3, "Quite a bit"),
    (4, "Extremely"),
]
PCL5_ITEMS = [
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening "
    "again (as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful "
    "experience (for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for "
    "example, having thoughts such as: I am bad, there is something seriously wrong with "
    "me, no one can be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
    "have loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Instrument]:
    result = load_instruments([INSTRUMENTS])
    assert result.problems == []
    return result.instruments


def items_of(instrument: Instrument) -> list[str]:
    return [q.text for q in instrument.scored_questions]


def answers_of(instrument: Instrument, question_id: str) -> list[tuple[int | str, str]]:
    return [(c.value, c.text) for c in instrument.question(question_id).choices]


def answered(*values: int) -> dict[str, int | str | None]:
    """Item answers in order: answered(1, 0, 3) is item 1 = 1, item 2 = 0, item 3 = 3."""
    return {str(number): value for number, value in enumerate(values, start=1)}


def totalling(total: int, items: int, highest: int) -> dict[str, int | str | None]:
    """Every item answered, adding up to total: the highest answers first."""
    values = []
    for _ in range(items):
        values.append(min(highest, total))
        total -= values[-1]
    assert total == 0
    return answered(*values)


def test_the_shipped_instruments_and_surveys_load(shipped):
    assert set(shipped) == {"phq9", "gad7", "pcl5", "reflection"}
    surveys = load_surveys([SURVEYS], shipped)
    assert surveys.problems == []
    assert surveys.surveys["after_session"].name == "After the session"
    assert surveys.surveys["after_session"].instruments == ("reflection", "phq9", "gad7")
    assert surveys.surveys["after_session_pcl5"].instruments == (
        "reflection",
        "phq9",
        "gad7",
        "pcl5",
    )


def test_phq9_wording_is_the_published_wording(shipped):
    phq9 = shipped["phq9"]
    assert phq9.name == "PHQ-9"
    assert phq9.stem == PHQ9_STEM
    assert items_of(phq9) == PHQ9_ITEMS
    assert [q.id for q in phq9.scored_questions] == [str(n) for n in range(1, 10)]
    for number in range(1, 10):
        assert answers_of(phq9, str(number)) == FREQUENCY
    difficulty = phq9.question("difficulty")
    assert difficulty.text == PHQ9_DIFFICULTY
    assert [text for _, text in answers_of(phq9, "difficulty")] == PHQ9_DIFFICULTY_ANSWERS
    assert not difficulty.scored
    assert phq9.questions[-1] is difficulty  # asked after the nine items
    assert phq9.source


def test_gad7_wording_is_the_published_wording(shipped):
    gad7 = shipped["gad7"]
    assert gad7.stem == GAD7_STEM
    assert items_of(gad7) == GAD7_ITEMS
    assert len(gad7.questions) == 7
    for number in range(1, 8):
        assert answers_of(gad7, str(number)) == FREQUENCY


def test_pcl5_wording_is_the_published_wording(shipped):
    pcl5 = shipped["pcl5"]
    assert pcl5.stem == PCL5_STEM
    assert items_of(pcl5) == PCL5_ITEMS
    for number in range(1, 21):
        assert answers_of(pcl5, str(number)) == PCL5_ANSWERS
    assert "31-33 or more suggests probable PTSD" in pcl5.note
    assert "not a diagnosis" in pcl5.note
    assert "National Center for PTSD" in pcl5.note_source


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_severity_at_every_band_boundary(shipped, total, band):
    result = score(shipped["phq9"], totalling(total, items=9, highest=3))
    assert (result.total, result.band) == (total, band)
    assert result.refused_reason is None


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_severity_at_every_band_boundary(shipped, total, band):
    result = score(shipped["gad7"], totalling(total, items=7, highest=3))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "probable_ptsd"),
    [(0, False), (30, False), (31, True), (80, True)],
)
def test_pcl5_flags_probable_ptsd_from_31(shipped, total, probable_ptsd):
    result = score(shipped["pcl5"], totalling(total, items=20, highest=4))
    assert result.total == total
    assert result.band is not None
    assert ("probable PTSD" in result.band and "below" not in result.band) is probable_ptsd


def test_pcl5_cluster_subtotals(shipped):
    # B (1-5) all "Extremely", C (6-7) "Quite a bit", D (8-14) "Moderately",
    # E (15-20) "A little bit".
    answers = answered(*[4] * 5, *[3] * 2, *[2] * 7, *[1] * 6)
    result = score(shipped["pcl5"], answers)
    assert result.clusters == {"B": 20, "C": 6, "D": 14, "E": 6}
    assert result.total == 46


def test_a_typical_phq9(shipped):
    result = score(shipped["phq9"], {**answered(1, 2, 1, 3, 0, 2, 1, 0, 0), "difficulty": 1})
    assert (result.total, result.band, result.urgent) == (10, "moderate", False)


def test_missing_items_refuse_a_total_name_the_items_and_keep_the_answers(shipped):
    answers = answered(1, 2, None, 3, 0, 2, None, 0, 0)
    result = score(shipped["phq9"], answers)
    assert result.total is None
    assert result.band is None
    assert result.missing == ("3", "7")
    assert result.refused_reason is not None
    assert "items 3 and 7" in result.refused_reason
    assert result.answers == {"1": 1, "2": 2, "4": 3, "5": 0, "6": 2, "8": 0, "9": 0}


def test_an_item_left_out_altogether_is_missing_too(shipped):
    answers = answered(*[1] * 8)  # item 9 never asked
    result = score(shipped["phq9"], answers)
    assert result.total is None
    assert result.refused_reason is not None
    assert "item 9 is unanswered" in result.refused_reason


def test_the_unscored_difficulty_question_may_be_skipped(shipped):
    result = score(shipped["phq9"], answered(*[0] * 9))
    assert result.total == 0
    assert "difficulty" not in result.answers


def test_pcl5_without_every_item_has_no_cluster_subtotals(shipped):
    answers = answered(*[4] * 19)
    result = score(shipped["pcl5"], answers)
    assert (result.total, result.band, dict(result.clusters)) == (None, None, {})
    assert result.refused_reason is not None
    assert "item 20" in result.refused_reason


@pytest.mark.parametrize(("item9", "urgent"), [(0, False), (1, True), (3, True)])
def test_phq9_item9_above_0_needs_the_clinician_today_whatever_the_total(shipped, item9, urgent):
    result = score(shipped["phq9"], answered(0, 0, 0, 0, 0, 0, 0, 0, item9))
    assert result.band == "minimal"
    assert result.urgent is urgent
    if urgent:
        assert result.urgent_message is not None
        assert "item 9" in result.urgent_message
        assert "today" in result.urgent_message
    else:
        assert result.urgent_message is None


def test_item9_fires_even_when_the_form_is_incomplete(shipped):
    result = score(shipped["phq9"], {"9": 1})
    assert result.total is None
    assert result.refused_reason is not None
    assert result.urgent
    assert score(shipped["phq9"], {"1": 3, "9": None}).urgent is False


def test_gad7_and_pcl5_have_no_urgent_item(shipped):
    assert not score(shipped["gad7"], totalling(21, items=7, highest=3)).urgent
    assert not score(shipped["pcl5"], totalling(80, items=20, highest=4)).urgent


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"1": 4}, "item 1 has no answer 4; its answers are 0, 1, 2, 3."),
        ({"1": -1}, "has no answer -1"),
        ({"1": "1"}, "has no answer '1'"),  # a number typed as text is not an answer
        ({"1": True}, "has no answer True"),
        ({"10": 0}, "PHQ-9 has no question “10”."),
        ({"difficulty": 4}, "has no answer 4"),
    ],
)
def test_an_answer_that_is_not_a_choice_is_refused(shipped, answers, words):
    with pytest.raises(ValidationError) as caught:
        score(shipped["phq9"], answers)
    assert words in caught.value.message


def test_the_reflection_is_gentle_unscored_and_keeps_what_was_written(shipped):
    reflection = shipped["reflection"]
    assert not reflection.scored
    assert all(q.optional for q in reflection.questions)
    texts = {q.id: q.text for q in reflection.questions}
    assert texts["what_came_up"] == "What came up for you?"
    assert texts["intention"] == "How did the session relate to your intention?"
    assert texts["insight"] == "Did anything feel clearer or new?"
    assert [c.value for c in reflection.question("intensity").choices] == list(range(11))
    for scale in ("safety", "support", "insight", "distress"):
        assert [c.value for c in reflection.question(scale).choices] == [0, 1, 2, 3, 4]
    tones = [c.text for c in reflection.question("tone").choices]
    assert tones == ["Mostly pleasant", "Mixed", "Mostly difficult", "Hard to say"]

    result = score(
        reflection,
        {
            "intensity": 10,
            "tone": "mixed",
            "what_came_up": "My grandmother's kitchen.",
            "intention": "  ",
        },
    )
    assert result.total is None
    assert result.refused_reason is None  # nothing is missing from an unscored form
    assert result.answers == {
        "intensity": 10,
        "tone": "mixed",
        "what_came_up": "My grandmother's kitchen.",
    }
    with pytest.raises(ValidationError):
        score(reflection, {"intensity": 11})
    with pytest.raises(ValidationError):
        score(reflection, {"tone": "wonderful"})
    with pytest.raises(ValidationError):
        score(reflection, {"what_came_up": 3})


# A small valid instrument to break one way at a time in the tests below.
SMALL = """\
name = "Small"
stem = "How often?"
source = "test"
score_range = [0, 6]
choices = [{ value = 0, text = "never" }, { value = 3, text = "always" }]

[[questions]]
id = "1"
text = "First"

[[questions]]
id = "2"
text = "Second"

[[bands]]
low = 0
high = 2
name = "low"

[[bands]]
low = 3
high = 6
name = "high"
"""


def test_the_small_instrument_is_valid(tmp_path):
    (tmp_path / "small.toml").write_text(SMALL, encoding="utf-8")
    result = load_instruments([tmp_path])
    assert result.problems == []
    assert score(result.instruments["small"], {"1": 3, "2": 0}).band == "high"


BROKEN = [
    (SMALL.replace("[[bands]]\nlow = 0", "[[bands\nlow = 0"), "line 15: not valid TOML"),
    (SMALL.replace("low = 3", "low = 4"), "line 21: band 4-6 should start at 3"),
    (SMALL.replace("high = 2", "high = 3"), "band 3-6 should start at 4"),
    (SMALL.replace("high = 6", "high = 5"), "the last band must end at 6"),
    (SMALL.replace("[0, 6]", "[0, 9]"), "line 4: score_range 0-9 does not match"),
    (SMALL.replace('id = "2"', 'id = "1"'), "question id “1” is used twice"),
    (SMALL.replace("value = 3", 'value = "3"'), "line 8: question “1” is scored, so every"),
    (SMALL.replace("value = 3", "value = 3.0"), "each needs a value (a whole number or a word)"),
    (
        SMALL.replace('text = "Second"', 'text = "Second"\noptional = true'),
        "line 12: question “2”: a scored item cannot be optional",
    ),
    (
        SMALL.replace('text = "First"', 'text = "First"\noptinal = true'),
        "line 8: question “1” has “optinal”",
    ),
    (SMALL.replace('text = "Second"', 'text = ""'), "line 12: question “2”: text is missing"),
    (SMALL + '\n[urgent]\nitem = "2"\nabove = 3\nmessage = "x"\n', "urgent above must be"),
    (SMALL + '\n[urgent]\nitem = "9"\nabove = 0\nmessage = "x"\n', "urgent item must be"),
    (
        SMALL + '\n[[clusters]]\nid = "A"\nname = "a"\nitems = ["1", "3"]\n',
        "cluster “A”: items must list scored question ids",
    ),
    (SMALL.replace('name = "Small"\n', ""), "name is missing"),
    (SMALL.replace("score_range = [0, 6]\n", ""), "bands need a score_range"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n" + SMALL, "nested too deeply"),
]


@pytest.mark.parametrize(("text", "words"), BROKEN)
def test_a_broken_instrument_file_is_reported_by_name_and_line_and_skipped(tmp_path, text, words):
    (tmp_path / "clinic_scale.toml").write_text(text, encoding="utf-8")
    result = load_instruments([INSTRUMENTS, tmp_path])
    [problem] = result.problems
    assert problem.startswith("clinic_scale.toml")
    assert words in problem
    assert problem.endswith("skipped.")
    assert set(result.instruments) == {"phq9", "gad7", "pcl5", "reflection"}


def test_a_file_name_that_cannot_be_an_id_is_reported(tmp_path):
    (tmp_path / "My PHQ.toml").write_text(SMALL, encoding="utf-8")
    [problem] = load_instruments([tmp_path]).problems
    assert problem.startswith("My PHQ.toml: the file name must be lower-case")


def test_a_clinic_file_replaces_the_shipped_instrument_of_the_same_id(tmp_path):
    ours = (INSTRUMENTS / "phq9.toml").read_text(encoding="utf-8")
    ours = ours.replace("see the patient about it today", "page the on-call prescriber now")
    (tmp_path / "phq9.toml").write_text(ours, encoding="utf-8")
    result = load_instruments([INSTRUMENTS, tmp_path])
    assert result.problems == []
    fired = score(result.instruments["phq9"], {"9": 2})
    assert fired.urgent_message is not None
    assert "page the on-call prescriber now" in fired.urgent_message


def _without_urgent(text: str) -> str:
    head, _urgent, tail = text.partition("[urgent]")
    rest = tail.split("\n[", 1)
    return head + ("[" + rest[1] if len(rest) > 1 else "")


PHQ9 = (INSTRUMENTS / "phq9.toml").read_text(encoding="utf-8")
WEAKENED = [
    (_without_urgent(PHQ9), "it has no [urgent] table"),
    (PHQ9.replace('item = "9"', 'item = "1"'), "[urgent] must stay on item 9"),
    (PHQ9.replace("above = 0", "above = 2"), "[urgent] must stay on item 9, above 0 or lower"),
    (  # reversed: "Not at all" scored 3
        PHQ9.replace("value = 0,", "value = @,")
        .replace("value = 3,", "value = 0,")
        .replace("value = @,", "value = 3,")
        .replace("value = 1,", "value = @,")
        .replace("value = 2,", "value = 1,")
        .replace("value = @,", "value = 2,"),
        "answer values must be those of the PHQ-9",
    ),
]


@pytest.mark.parametrize(("text", "words"), WEAKENED)
def test_a_clinic_file_cannot_switch_the_item_9_alert_off(tmp_path, text, words):
    """Tamper QA: a clinic's phq9.toml without [urgent] switched the item 9 alert off
    without a word. It is refused by name, and the shipped PHQ-9 stays in use."""
    assert text != PHQ9
    (tmp_path / "phq9.toml").write_text(text, encoding="utf-8")
    result = load_instruments([INSTRUMENTS, tmp_path])
    [problem] = result.problems
    assert problem.startswith("phq9.toml")
    assert words in problem
    assert problem.endswith("The earlier phq9 stays in use.")
    fired = score(result.instruments["phq9"], {"9": 1})
    assert fired.urgent_message is not None


def test_a_broken_clinic_file_leaves_the_shipped_one_in_use(tmp_path):
    ours = (INSTRUMENTS / "phq9.toml").read_text(encoding="utf-8")
    (tmp_path / "phq9.toml").write_text(ours.replace("high = 4\n", "high = 3\n"), encoding="utf-8")
    result = load_instruments([INSTRUMENTS, tmp_path])
    [problem] = result.problems
    assert problem.startswith("phq9.toml, line ")
    assert "The earlier phq9 stays in use." in problem
    assert score(result.instruments["phq9"], totalling(4, items=9, highest=3)).band == "minimal"


def test_a_survey_naming_an_unknown_instrument_is_refused(tmp_path, shipped):
    (tmp_path / "intake.toml").write_text(
        'name = "Intake"\ninstruments = ["phq9", "cadss"]\n', encoding="utf-8"
    )
    result = load_surveys([SURVEYS, tmp_path], shipped)
    [problem] = result.problems
    assert problem.startswith("intake.toml, line 2: names an instrument “cadss” that is not")
    assert set(result.surveys) == {"after_session", "after_session_pcl5"}


def test_a_clinic_survey_may_use_a_clinic_instrument_and_replace_a_shipped_survey(tmp_path):
    clinic_instruments, clinic_surveys = tmp_path / "instruments", tmp_path / "surveys"
    clinic_instruments.mkdir()
    clinic_surveys.mkdir()
    (clinic_instruments / "small.toml").write_text(SMALL, encoding="utf-8")
    instruments = load_instruments([INSTRUMENTS, clinic_instruments]).instruments
    (clinic_surveys / "after_session.toml").write_text(
        'name = "After the session"\ninstruments = ["reflection", "small"]\n', encoding="utf-8"
    )
    result = load_surveys([SURVEYS, clinic_surveys], instruments)
    assert result.problems == []
    assert result.surveys["after_session"].instruments == ("reflection", "small")
