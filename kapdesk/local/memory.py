"""Handing memory back when a long session's workspace closes (issue 10)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import linecache
import sys


def keep_collections_short() -> None:
    """Full garbage collections walk every object alive: 160-180 ms on the GUI thread
    every twenty minutes or so of a 1 Hz session (benchmarks/bench_long_session.py).
    What survives a full collection is frozen (gc.freeze), so the next walks only what
    is newer. Frozen objects are freed as usual when nothing refers to them; cycles
    among them wait for ``give_back_memory``. Installed once; calling again is harmless."""
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)
    gc.freeze()  # what exists now: the app, and a session just read


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def give_back_memory() -> None:
    """Collect Python's reference cycles (the frozen too), then ask the C library to return
    the heap pages it freed: glibc keeps them otherwise, and after a six-hour session the
    process stayed tens of MiB above where it started though nothing was kept. Call it
    once nothing refers to what closed: what is alive now is frozen again."""
    forget_module_sources()
    gc.unfreeze()
    gc.collect()
    gc.freeze()  # what survived is the app itself: the next collections need not walk it
    return_freed_heap()


def return_freed_heap() -> None:
    """Ask the C library to return the heap pages it holds free. Reading a long session
    frees as much as it keeps (the record's joined columns, numpy's working arrays): ~4 MiB
    stayed resident after a six-hour session was read, given back in ~1 ms (issue 10)."""
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return
    if trim is not None:
        trim(0)


def forget_module_sources() -> None:
    """Let go of the source files PySide6 read while modules loaded. Its import hook
    (shibokensupport's __feature__ check) reads every module imported after PySide6 with
    inspect.getsource, and linecache keeps the lines: 4-6 MB of text once the session
    screen (pyqtgraph's ~150 modules) has loaded, ~8 MiB resident (issue 10). Nothing needs
    them: a traceback reads its lines again."""
    linecache.clearcache()
