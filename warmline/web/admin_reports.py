"""Reports: a line's figures over a chosen range as charts and tables, a CSV download, and the
coverage report of the next 14 days. Aggregate only: no contact, no caller, anywhere."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from sqlalchemy import select

from warmline.clock import utc_now
from warmline.models import Line
from warmline.services import survey_tallies
from warmline.services.admin.coverage import build_coverage_report, render_coverage_report
from warmline.services.admin.reports import (
    TRANSFER_LABELS,
    Report,
    build_report,
    parse_range,
    report_csv,
)
from warmline.web.admin_charts import bar_chart
from warmline.web.auth import admin_required
from warmline.web.context import current_runtime
from warmline.web.ids import id_arg
from warmline.web.languages import N_, gettext, page_language

bp = Blueprint("admin_reports", __name__, url_prefix="/admin/reports")

CHANNELS = (("", N_("Calls, texts and chats")), ("voice", N_("Calls")), ("sms", N_("Texts")),
            ("chat", N_("Web chats")))


def _chosen() -> tuple[list[tuple[int, str]], Report | None]:
    with current_runtime().sessions() as session:
        lines = [(line.id, line.name) for line in session.scalars(select(Line).order_by(Line.name))]
    if not lines:
        return lines, None
    line_id = id_arg("line") or lines[0][0]
    start, end = parse_range(request.args.get("start"), request.args.get("end"), utc_now().date())
    channel = request.args.get("channel") or None
    if channel not in (None, "voice", "sms", "chat"):
        channel = None
    report = build_report(current_runtime(), line_id, start, end, channel)
    if report is None:
        abort(404)
    return lines, report


@bp.get("")
@admin_required
def reports() -> ResponseReturnValue:
    lines, report = _chosen()
    charts = {}
    survey = None
    if report is not None:
        survey = survey_tallies.summary(current_runtime(), [report.line_id], report.start,
                                        report.end)
        charts = {
            "days": bar_chart(gettext("Contacts offered per day"),
                              [(format_date(d.day, "d MMM"), d.offered) for d in report.days],
                              label_every=max(1, len(report.days) // 10)),
            "answer_rate": bar_chart(gettext("Answer rate per day (%%)").replace("%%", "%"),
                                     [(format_date(d.day, "d MMM"), round((d.answer_rate or 0) * 100, 1))
                                      for d in report.days],
                                     unit="%", label_every=max(1, len(report.days) // 10)),
            "hours": bar_chart(gettext("Contacts offered by the line's local hour"),
                               [(f"{h:02d}", n) for h, n in report.by_hour], label_every=3),
            "experiences": bar_chart(gettext("Contacts offered by the experience asked for"),
                                     report.by_experience),
            "peers": bar_chart(gettext("Contacts taken per peer (for care, not ranking)"),
                               [(p.name, p.contacts) for p in report.peer_load]),
            "survey": bar_chart("How heard callers felt (1 to 5)",
                                [(str(score), n) for score, n in survey.answers.items()]),
        }
    coverage = render_coverage_report(build_coverage_report(current_runtime(), utc_now()), page_language())
    query = urlencode(list(request.args.items()))
    csv_url = url_for("admin_reports.download") + (f"?{query}" if query else "") if report else None
    return render_template("admin/reports.html", lines=lines, report=report, charts=charts,
                           channels=CHANNELS, coverage=coverage, csv_url=csv_url,
                           survey=survey, transfer_labels=TRANSFER_LABELS)


@bp.get("/report.csv")
@admin_required
def download() -> ResponseReturnValue:
    _, report = _chosen()
    if report is None:
        abort(404)
    name = f"warmline-report-{report.line_id}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
    return Response(report_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
