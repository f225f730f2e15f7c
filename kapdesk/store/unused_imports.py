"""What SQLAlchemy imports for its asyncio extension, loaded only if something uses it
(issue 10: memory and start-up).

``sqlalchemy.util`` imports ``asyncio`` whatever the engine, and asyncio brings 29 modules
with it, ``ssl`` among them: ~3 MiB resident and ~25 ms of start-up here, kept for the
life of the process. The record uses SQLite's synchronous driver and never runs an event
loop. So ``asyncio`` is registered as a package whose body (its ``__init__``) runs at the
first use of any of its names, from any module: ``asyncio.run``, ``from asyncio import
Queue`` and ``import asyncio.subprocess`` all work as ever. Its submodules import as usual.

The one name SQLAlchemy reads at import, ``asyncio.iscoroutine``, is taken from
``asyncio.coroutines`` (a leaf module, no event loop), the very function asyncio's body
would bind. Called before anything else has imported asyncio; if something has, nothing
is changed.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

ASYNCIO = "asyncio"


def defer_asyncio() -> None:
    if ASYNCIO in sys.modules:
        return
    spec = importlib.util.find_spec(ASYNCIO)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)
    lock = threading.RLock()

    def __getattr__(name: str) -> object:
        # Only names the module does not hold yet come here (PEP 562).
        with lock:
            if module.__dict__.get("__getattr__") is __getattr__:
                del module.__dict__["__getattr__"]
                try:
                    spec.loader.exec_module(module)  # type: ignore[union-attr]
                except BaseException:
                    module.__dict__["__getattr__"] = __getattr__
                    raise
        return _held(module, name)

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[ASYNCIO] = module
    try:
        from asyncio.coroutines import iscoroutine
    except ImportError:  # another layout of asyncio: load it whole, as before
        del sys.modules[ASYNCIO]
        return
    module.__dict__["iscoroutine"] = iscoroutine


def _held(module: ModuleType, name: str) -> object:
    try:
        return module.__dict__[name]
    except KeyError:
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}") from None
