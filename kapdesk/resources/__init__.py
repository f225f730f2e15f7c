"""Package data: the style sheets and the monitoring protocols kapdesk ships.

Read with ``importlib.resources`` (see ``resource``), so they are found the same way
in a checkout, an installed wheel and a frozen app.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """A file or folder under kapdesk/resources/."""
    found = files(__name__)
    for part in parts:
        found = found / part
    return found
