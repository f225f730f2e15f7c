"""Where kapdesk keeps its record and its logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "kapdesk"
HOME_VARIABLE = "KAPDESK_HOME"


@dataclass(frozen=True)
class Paths:
    data: Path
    logs: Path
    chosen: bool = False  # named by --data-dir or $KAPDESK_HOME, not the platform default

    @property
    def anchors(self) -> Path:
        """Outside every data folder: the mirror of each record's anchor, by record id."""
        return anchor_folder(Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)))


def anchor_folder(state: Path) -> Path:
    """The mirror's folder from the platform's state folder. On Windows and macOS that is
    the default data folder itself (platformdirs), where a whole folder put back from an
    older copy would bring an older mirror with it: there the mirror is a sibling,
    ``kapdesk-anchors`` (issue 11)."""
    default_data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    if state == default_data or default_data in state.parents:
        return default_data.parent / f"{APP_NAME}-anchors"
    return state / "anchors"


def resolve(data_dir: str | os.PathLike[str] | None = None) -> Paths:
    """--data-dir, else $KAPDESK_HOME, else the platform's user data folder.

    Logs sit inside a chosen data folder, so a test or a second clinic profile
    never writes into the real user's log folder.
    """
    chosen = data_dir or os.environ.get(HOME_VARIABLE)
    if chosen:
        data = Path(chosen).expanduser().resolve()
        return Paths(data=data, logs=data / "logs", chosen=True)
    return Paths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
