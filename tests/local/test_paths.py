"""Where kapdesk keeps what it keeps, on each platform."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from kapdesk.local import paths


def test_the_anchor_mirror_is_outside_the_default_data_folder_on_every_platform(monkeypatch):
    """On Windows and macOS platformdirs' state folder is the data folder itself: a
    mirror there would be put back with the folder it is meant to check."""
    for data, state in (
        ("/home/a/.local/share/kapdesk", "/home/a/.local/state/kapdesk"),  # Linux
        ("C:/Users/a/AppData/Local/kapdesk", "C:/Users/a/AppData/Local/kapdesk"),  # Windows
        ("/Users/a/Library/Application Support/kapdesk",) * 2,  # macOS
    ):
        monkeypatch.setattr(platformdirs, "user_data_dir", lambda *_a, d=data, **_k: d)
        monkeypatch.setattr(platformdirs, "user_state_dir", lambda *_a, s=state, **_k: s)
        mirror = paths.resolve().anchors
        assert Path(data) not in mirror.parents, (data, mirror)
        assert mirror != Path(data)
