"""PySide6's check of every later import, made to read each module's file once and keep
nothing (issue 10: start-up and memory).

Once PySide6 is imported, its import hook asks of every module imported after it whether
the module's source mentions PySide6 (shibokensupport's ``feature_imported``, for the
opt-in ``from __feature__ import snake_case``). It asks with ``inspect.getsource``, which
reads the file through linecache, splits it into lines and keeps them: pyqtgraph's ~150
modules cost ~13 MiB that stays resident after linecache is cleared (the heap is too
fragmented to shrink) and 80-250 ms of start-up (measured in /proc/self/status and with
perf_counter around ``import pyqtgraph``).

The same question is answered here from the file's bytes, read once and dropped: a module
whose source mentions PySide6 is still marked as using it, one without a source file
(a frozen or bundled build) is not, as inspect's answer was. kapdesk uses no
``__feature__``, so nothing it does depends on the answer; the answer is kept only for
libraries that would. If a later PySide6 has no such function, nothing is changed.
"""

from __future__ import annotations

import sys
from types import ModuleType

_CHECK_MODULE = "shibokensupport.feature"
_CHECK_NAME = "_mod_uses_pyside"


def _uses_pyside(module: ModuleType) -> bool:
    """Whether the module's source file mentions PySide6 (inspect.getsource's answer,
    without linecache)."""
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not origin.endswith(".py"):
        return False  # built in, an extension, a namespace package, a frozen build
    try:
        with open(origin, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def lighten_import_check() -> bool:
    """Install the lighter check; True if PySide6's own was found and replaced. Call before
    the screens' modules (and pyqtgraph) are imported."""
    import PySide6  # noqa: F401  (installs the hook and loads the module that holds the check)

    check = sys.modules.get(_CHECK_MODULE)
    if check is None or not callable(getattr(check, _CHECK_NAME, None)):
        return False
    setattr(check, _CHECK_NAME, _uses_pyside)
    return True
