"""PySide6's import check made lighter (kapdesk/ui/import_check.py, issue 10): modules
imported after the screens' package keep no source in memory, and PySide6 still learns
which of them use it, as its own check would have said."""

import subprocess
import sys
import textwrap


def test_modules_imported_after_the_screens_keep_no_source_and_are_still_told_apart(
    tmp_path,
):
    (tmp_path / "uses_qt.py").write_text("from PySide6.QtCore import QObject\n")
    (tmp_path / "plain.py").write_text("VALUE = 1\n")
    script = textwrap.dedent(
        f"""
        import inspect, linecache, sys
        import kapdesk.ui
        sys.path.insert(0, {str(tmp_path)!r})
        import pyqtgraph, uses_qt, plain
        kept = [name for name in linecache.cache if "pyqtgraph" in name or "{tmp_path}" in name]
        print(len(kept))
        features = sys.modules["shibokensupport.feature"].pyside_feature_dict
        print(features["uses_qt"], features["plain"])
        def own_check(module):  # PySide6's own: inspect.getsource, no source is no use
            try:
                return 0 if "PySide6" in inspect.getsource(module) else -1
            except (OSError, TypeError, SyntaxError):
                return -1
        differ = [
            name for name, module in list(sys.modules.items())
            if name.startswith("pyqtgraph") and name in features
            and features[name] != own_check(module)
        ]
        print(len([name for name in features if name.startswith("pyqtgraph")]), differ)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    kept, features, checked = done.stdout.splitlines()[:3]
    assert kept == "0"  # PySide6's own check left ~130 of these files' lines in memory
    # 0: the module uses PySide6 (its features would apply); -1: it does not.
    assert features.split() == ["0", "-1"]
    count, differ = checked.split(" ", 1)
    assert int(count) > 100  # pyqtgraph's modules, each checked
    assert differ == "[]"
