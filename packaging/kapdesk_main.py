"""The frozen executables' entry point (build_installer.spec): as `python -m kapdesk`."""

from kapdesk.cli import main

raise SystemExit(main())
