"""The monitoring protocols a clinic uses: those kapdesk ships, then the clinic's own."""

from __future__ import annotations

from pathlib import Path

from kapdesk.clinical.protocols import LoadResult, load_protocols
from kapdesk.resources import resource

CLINIC_PROTOCOLS = "protocols"  # a folder inside the data folder


def clinic_protocols(data_folder: Path) -> LoadResult:
    """Every shipped protocol, replaced by a clinic's file of the same name where it has one."""
    return load_protocols([resource("protocols"), data_folder / CLINIC_PROTOCOLS])
