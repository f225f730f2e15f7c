"""The Qt screens.

Once PySide6 is imported, its import hook (shibokensupport's feature check) reads the
source of every module imported after it to look for ``from __feature__ import``
(issue 10, start-up and memory). So the layers under the screens are loaded here first:
at start-up that read ~375 files, SQLAlchemy's among them (100-280 ms); loaded first, the
store and SQLAlchemy never pass through it. These layers hold no Qt. Then the check
itself is made lighter for what comes after (pyqtgraph, the screens): import_check.py.
"""

import kapdesk.local.settings
import kapdesk.store  # SQLAlchemy, its SQLite dialect, the tables
import kapdesk.store.vault  # noqa: F401  (cryptography)
from kapdesk.ui.import_check import lighten_import_check

lighten_import_check()
