"""Hours and activity: every peer's for admins (with CSV, for stipends and for noticing who is
wearing thin), and each peer's own on their dashboard. Days are UTC days, inclusive."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.admin.reports import parse_range
from warmline.services.peers.hours import PeerHours, build_hours_report, hours_csv
from warmline.web.auth import admin_required, peer_required, signed_in_peer_id
from warmline.web.context import current_runtime

bp = Blueprint("peer_hours", __name__)


def _range() -> tuple[date, date]:
    return parse_range(request.args.get("start"), request.args.get("end"), utc_now().date())


def _report(peer_ids: list[int] | None = None) -> tuple[date, date, list[PeerHours]]:
    start, end = _range()
    return start, end, build_hours_report(current_runtime(), start, end + timedelta(days=1),
                                          utc_now(), peer_ids)


@bp.get("/admin/reports/hours")
@admin_required
def admin_hours() -> ResponseReturnValue:
    start, end, rows = _report()
    csv_url = url_for("peer_hours.admin_hours_csv", start=start.isoformat(), end=end.isoformat())
    return render_template("admin/peer_hours.html", rows=rows, start=start, end=end,
                           csv_url=csv_url)


@bp.get("/admin/reports/hours.csv")
@admin_required
def admin_hours_csv() -> ResponseReturnValue:
    start, end, rows = _report()
    name = f"warmline-hours-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(hours_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/dashboard/hours")
@peer_required
def my_hours() -> ResponseReturnValue:
    start, end, rows = _report([signed_in_peer_id()])
    csv_url = url_for("peer_hours.my_hours_csv", start=start.isoformat(), end=end.isoformat())
    return render_template("peer_hours.html", rows=rows, start=start, end=end, csv_url=csv_url)


@bp.get("/dashboard/hours.csv")
@peer_required
def my_hours_csv() -> ResponseReturnValue:
    start, end, rows = _report([signed_in_peer_id()])
    name = f"warmline-my-hours-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(hours_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
