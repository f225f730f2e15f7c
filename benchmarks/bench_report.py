"""The session report as a PDF: a four-hour session, against the same text without the chart.

Issue 12's target: the report of a 4-hour session with readings every 5 minutes and 60
observations in under 1 s. The baseline, in the same run, renders the same text document
(every section but the chart) onto a PDF page by page, so the ratio says what the chart
and the record's reads cost on top of laying out the text.

    python benchmarks/bench_report.py [--quick]     # --quick: 3 rounds instead of 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QSizeF
from PySide6.QtWidgets import QApplication

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.local.clock import FakeClock
from kapdesk.session.service import SessionService
from kapdesk.store import RecordStore
from kapdesk.ui import report


def four_hour_session(folder: Path) -> SessionService:
    clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    store = RecordStore.open(
        folder,
        passphrase=lambda _r: "benchmark passphrase",
        use_keyring=False,
        create=True,
        clock=clock.now_utc,
    )
    patient = store.add_patient("Benchmark Patient", weight_kg=70)
    session = store.start_session(patient, protocol="IV infusion", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), "calm"
    )
    service.record_vitals_line("128/82 72 98")
    clock.advance(minutes=5)
    service.record_dose(drug="ketamine", route="iv", mg=35, lot_number="BENCH-1")
    for minute in range(1, 241):
        clock.advance(minutes=1)
        if minute % 5 == 0:
            service.record_vitals_line(
                f"{130 + minute % 17}/{82 + minute % 7} {70 + minute % 9} 97"
            )
        if minute % 4 == 0:
            service.record_observation(
                f"Observation {minute // 4}: calm, eyes closed, breathing even."
            )
    service.stop_infusion()
    return service


def text_only(service: SessionService, facts: report.ReportFacts, target: Path) -> int:
    """The same words on the same pages, through the same pagination, without the chart
    and the record's reads for it."""
    writer = report._pdf_writer(target, "baseline")
    pages = report._begin(writer, target)
    body = report._first_page_html(service) + report._details_html(service)
    document = report._document(body, pages.width, writer)
    document.setPageSize(QSizeF(pages.width, pages.body))
    try:
        pages.draw(document, facts, service, first=1, total=document.pageCount())
    finally:
        pages.painter.end()
    return document.pageCount()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    rounds = 3 if parser.parse_args().quick else 7
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        service = four_hour_session(Path(folder) / "data")
        facts = report.report_facts(service, "benchmark")
        full, bare = [], []
        for number in range(rounds):  # interleaved: drift touches both alike
            started = time.perf_counter()
            pages = report.write_pdf(service, facts, Path(folder) / f"r{number}.pdf")
            full.append(time.perf_counter() - started)
            started = time.perf_counter()
            text_only(service, facts, Path(folder) / f"t{number}.pdf")
            bare.append(time.perf_counter() - started)
        readings = len(service.state.readings())
        observations = len(service.state.observations())
        size = (Path(folder) / "r0.pdf").stat().st_size
        service.store.close()
    report_s, text_s = statistics.median(full), statistics.median(bare)
    print(
        f"Session report, 4 h session ({readings} readings, {observations} observations), "
        f"medians of {rounds}:"
    )
    print(f"  the same text without the chart (baseline) {text_s * 1000:7.0f} ms")
    print(
        f"  the report as a PDF ({pages} pages, {size / 1024:.0f} KiB) {report_s * 1000:7.0f} ms "
        f"({report_s / text_s:.2f}x the text alone; target under 1 s)"
    )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
