"""The Qt screens.

The layers under them are loaded here, before any screen imports PySide6 (issue 10,
start-up): once PySide6 is imported, its import hook (shibokensupport's feature check)
reads the source of every module imported after it to look for ``from __feature__
import``. At start-up that read ~375 files, SQLAlchemy's among them: 100-280 ms here.
Loaded first, the store and SQLAlchemy never pass through it. These layers hold no Qt.
"""

import kapdesk.local.settings
import kapdesk.store  # SQLAlchemy, its SQLite dialect, the tables
import kapdesk.store.vault  # noqa: F401  (cryptography)
