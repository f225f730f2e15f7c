"""Settings: declared once with their constraints, refused with a sentence, never half-stored."""

from __future__ import annotations

import json

import pytest

from kapdesk.local.settings import SETTINGS, Number, Settings


def test_settings_are_declared_once_and_bad_values_refused(tmp_path):
    settings = Settings(tmp_path)
    assert settings.get("theme") == "dark"
    settings.set("font_scale", 1.4)
    assert Settings(tmp_path).get("font_scale") == 1.4
    with pytest.raises(ValueError, match="Theme"):
        settings.set("theme", "neon")
    (tmp_path / "settings.json").write_text("{not json")
    unreadable = Settings(tmp_path)
    assert unreadable.get("font_scale") == 1.0
    assert "could not be read" in unreadable.problem
    (tmp_path / "settings.json").write_text('{"alert_thresholds": {"caution_sytolic": 130}}')
    misspelt = Settings(tmp_path)
    assert misspelt.get("alert_thresholds") == {}
    assert "alert_thresholds" in misspelt.problem


def test_thresholds_outside_clinical_bounds_are_refused_whole(tmp_path):
    settings = Settings(tmp_path)
    with pytest.raises(ValueError, match=r"from 120 to 160"):
        settings.set("alert_thresholds", {"caution_systolic": 200})
    with pytest.raises(ValueError, match="caution level must be below the urgent level"):
        settings.set("alert_thresholds", {"caution_systolic": 160, "urgent_systolic": 150})
    with pytest.raises(ValueError, match="Clinic time zone"):
        settings.update({"font_scale": 1.2, "clinic_zone": "Mars/Olympus"})
    assert Settings(tmp_path).get("font_scale") == 1.0  # nothing of the refused update stored
    settings.set("alert_thresholds", {"caution_systolic": 130, "caution_diastolic": 85})
    assert Settings(tmp_path).get("alert_thresholds") == {
        "caution_systolic": 130,
        "caution_diastolic": 85,
    }


def test_the_text_size_bounds_are_declared_once():
    bounds = SETTINGS["font_scale"].constraint
    assert isinstance(bounds, Number)
    assert (bounds.low, bounds.high) == (0.7, 2.0)
    assert SETTINGS["font_scale"].problem(2.5) == "Text size (1.0 = normal): must be 0.7 to 2.0."


@pytest.mark.parametrize(
    "text",
    [
        '{"alert_thresholds": {"caution_systolic": 130, "caution_diastolic": 85},}',
        '[{"alert_thresholds": {"caution_systolic": 130, "caution_diastolic": 85}}]',
        "[" * 100_000 + "]" * 100_000,  # past Python's depth: the app closed after the PIN
    ],
    ids=["a trailing comma", "a list", "nested 100,000 deep"],
)
def test_a_settings_file_that_cannot_be_read_is_said_and_never_written_over(tmp_path, text):
    """Tamper QA: one Ctrl+= (the text size) replaced a clinic's unreadable settings.json,
    thresholds and all, with {"font_scale": 1.1}; a file holding a list was ignored
    without a word."""
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    settings = Settings(tmp_path)
    assert settings.problem is not None
    assert "every setting is at its default (including alert thresholds)" in settings.problem
    settings.set("font_scale", 1.1)
    assert settings.get("font_scale") == 1.1  # in force until kapdesk closes
    assert path.read_text(encoding="utf-8") == text  # the file as it was
    assert "hold only until it closes" in settings.problem


def test_entries_not_used_stay_in_the_file_when_a_setting_is_saved(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"font_scale": 1.2, "colour_blind": true, "lock_after_minutes": -3}')
    settings = Settings(tmp_path)
    assert "colour_blind, lock_after_minutes" in (settings.problem or "")
    settings.set("font_scale", 1.1)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved == {"font_scale": 1.1, "colour_blind": True, "lock_after_minutes": -3}
    settings.set("lock_after_minutes", 10)  # set in kapdesk: the file's own entry goes
    assert json.loads(path.read_text(encoding="utf-8"))["lock_after_minutes"] == 10


@pytest.mark.parametrize("name", ["right/Europe/London", "posix/Europe/London", "localtime"])
def test_a_zone_only_this_computer_s_files_know_is_refused(tmp_path, name):
    """Tamper QA: "right/Europe/London" (leap seconds counted) was taken as the clinic's
    zone and a session's, and showed its times off; "localtime" is whatever a computer is
    set to."""
    with pytest.raises(ValueError, match="is not a time zone name such as Europe/London"):
        Settings(tmp_path).set("clinic_zone", name)
    Settings(tmp_path).set("clinic_zone", "Europe/London")
