"""The roster pages: a line's week with coverage, shifts (recurring, skipped dates, one-off cover),
and the roster file imported or exported from the page with the command line's own rules."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from warmline.clock import utc_now
from warmline.domain.numbers import id_or_error
from warmline.models import Line, Peer, Shift
from warmline.roster.exporter import dump_roster, export_roster
from warmline.roster.importer import import_roster_text
from warmline.roster.schema import InvalidRosterError, RosterError
from warmline.services.admin import shadowing as admin_shadowing
from warmline.services.admin import shifts as admin_shifts
from warmline.services.admin import staffing as admin_staffing
from warmline.services.admin import week as admin_week
from warmline.services.admin.audit import record_change
from warmline.services.admin.forms import FormErrors, FormValues
from warmline.web.admin import acting_admin, submitted_form, sync_routing
from warmline.web.auth import admin_required
from warmline.web.context import current_runtime
from warmline.web.ids import id_arg
from warmline.web.languages import N_, gettext
from warmline.web.security import allows_body

bp = Blueprint("admin_roster", __name__, url_prefix="/admin/roster")

MAX_UPLOAD_BYTES = 1_000_000  # a roster of thousands of peers is far smaller


def _lines() -> list[tuple[int, str, bool]]:
    with current_runtime().sessions() as session:
        return [(line.id, line.name, line.active)
                for line in session.scalars(select(Line).order_by(Line.active.desc(), Line.name))]


def _week_url(line_id: int, day: date | None = None) -> str:
    week = admin_week.week_label(admin_week.parse_week(None, day)) if day else request.args.get("week")
    return url_for("admin_roster.week", line=line_id, week=week or None)


@bp.get("")
@admin_required
def week() -> ResponseReturnValue:
    lines = _lines()
    if not lines:
        return render_template("admin/roster_week.html", lines=lines, view=None)
    line_id = id_arg("line") or lines[0][0]
    today = admin_week.line_today(current_runtime(), line_id, utc_now())
    monday = admin_week.parse_week(request.args.get("week"), today)
    view = admin_week.build_week(current_runtime(), line_id, monday)
    if view is None:
        abort(404)
    staffing = admin_staffing.build_staffing(current_runtime(), line_id, monday, utc_now())
    return render_template("admin/roster_week.html", lines=lines, view=view,
                           thin_below=admin_week.THIN_BELOW, staffing=staffing,
                           shadowed=admin_shadowing.shadowed_dates(current_runtime(), line_id))


def _peers() -> list[tuple[str, str, bool]]:
    with current_runtime().sessions() as session:
        return [(p.email, p.name, p.active)
                for p in session.scalars(select(Peer).order_by(Peer.active.desc(), Peer.name))]


def _render_shift(line: Line, shift_id: int | None, form: FormValues, errors: FormErrors,
                  status: int = 200, *,
                  prediction: admin_staffing.WhatIf | None = None) -> ResponseReturnValue:
    return render_template(
        "admin/shift_form.html", line_id=line.id, line_name=line.name, timezone=line.timezone,
        shift_id=shift_id, form=form, errors=errors, peers=_peers(),
        repeat_choices=admin_shifts.REPEAT_CHOICES, rrule_days=admin_shifts.RRULE_DAYS,
        day_names=admin_shifts.DAY_NAMES, nth_choices=admin_shifts.NTH_CHOICES,
        back=url_for("admin_roster.week", line=line.id, week=request.values.get("week") or None),
        prediction=prediction,
    ), status


@bp.post("/lines/<int:line_id>/shifts/what-if")
@bp.post("/lines/<int:line_id>/shifts/<int:shift_id>/what-if")
@admin_required
def what_if(line_id: int, shift_id: int | None = None) -> ResponseReturnValue:
    """The shift form, unsaved, with the week's predicted answer rate without and with it."""
    runtime = current_runtime()
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        shift = session.get(Shift, shift_id) if shift_id is not None else None
        if line is None or (shift_id is not None and (shift is None or shift.line_id != line_id)):
            abort(404)
        session.expunge(line)
    form = submitted_form()
    result = admin_staffing.what_if(runtime, line_id, shift_id, form, utc_now())
    if isinstance(result, FormErrors):
        return _render_shift(line, shift_id, form, result, 422)
    return _render_shift(line, shift_id, form, FormErrors(), prediction=result)


@bp.route("/lines/<int:line_id>/shifts/new", methods=["GET", "POST"])
@admin_required
def new_shift(line_id: int) -> ResponseReturnValue:
    return _shift_page(line_id, None)


@bp.route("/lines/<int:line_id>/shifts/<int:shift_id>", methods=["GET", "POST"])
@admin_required
def edit_shift(line_id: int, shift_id: int) -> ResponseReturnValue:
    return _shift_page(line_id, shift_id)


def _shift_page(line_id: int, shift_id: int | None) -> ResponseReturnValue:
    runtime = current_runtime()
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        shift = session.get(Shift, shift_id) if shift_id is not None else None
        if line is None or (shift_id is not None and (shift is None or shift.line_id != line_id)):
            abort(404)
        if request.method == "GET":
            # A cover (or a moved date) starts from the covered occurrence's date and times.
            defaults = {name: request.args.get(name, "") for name in
                        ("peer", "start_date", "start_time", "end_time", "cover_shift", "cover_date", "week")
                        if request.args.get(name)}
            if "cover_date" in defaults:
                defaults["repeat"] = "once"
            form = admin_shifts.shift_form(shift, defaults)
            return _render_shift(line, shift_id, form, FormErrors())
        form = submitted_form()
        saved = admin_shifts.save_shift(runtime, acting_admin(), form, line_id=line_id, shift_id=shift_id,
                                        now=utc_now())
        if saved.errors:
            return _render_shift(line, shift_id, form, saved.errors, 422)
    sync_routing()
    flash(gettext("Shift saved. The coverage below includes it."))
    start = form.get("start_date")
    try:
        day = date.fromisoformat(start)
    except ValueError:
        day = None
    return redirect(_week_url(line_id, day))


@bp.post("/shifts/<int:shift_id>/skip")
@admin_required
def skip(shift_id: int) -> ResponseReturnValue:
    problem = admin_shifts.skip_date(current_runtime(), acting_admin(), shift_id,
                                     request.form.get("date", ""), utc_now())
    flash(gettext(problem or N_("Skipped: that date no longer counts as covered.")))
    sync_routing()
    return redirect(_back(shift_id))


@bp.post("/shifts/<int:shift_id>/restore")
@admin_required
def restore(shift_id: int) -> ResponseReturnValue:
    admin_shifts.restore_date(current_runtime(), acting_admin(), shift_id, request.form.get("date", ""),
                              utc_now())
    flash(gettext("Restored: the shift happens on that date again."))
    sync_routing()
    return redirect(_back(shift_id))


@bp.post("/shifts/<int:shift_id>/delete")
@admin_required
def delete(shift_id: int) -> ResponseReturnValue:
    line_id = admin_shifts.delete_shift(current_runtime(), acting_admin(), shift_id, utc_now())
    if line_id is None:
        abort(404)
    flash(gettext("Shift deleted."))
    sync_routing()
    return redirect(url_for("admin_roster.week", line=line_id, week=request.form.get("week") or None))


@bp.route("/shifts/<int:shift_id>/shadow", methods=["GET", "POST"])
@admin_required
def shadow(shift_id: int) -> ResponseReturnValue:
    """Pair a new peer with a mentor for one occurrence of their shift (a shadowing session)."""
    runtime = current_runtime()
    day = request.values.get("date", "")
    page = admin_shadowing.shadow_page(runtime, shift_id, day)
    if page is None:
        abort(404)
    form, errors = FormValues({"date": [day], "mentor": [str(page.mentor_id or "")]}), FormErrors()
    if request.method == "POST":
        form = submitted_form()
        errors = admin_shadowing.pair(runtime, acting_admin(), shift_id, form, utc_now())
        if not errors:
            flash(gettext("Shadowing session saved: the mentor is rung in, muted, on each of "
                          "this peer's calls during that shift."))
            return redirect(_week_url(page.line_id, page.day))
    return render_template("admin/shadow_form.html", page=page, form=form, errors=errors,
                           week=request.values.get("week") or None), 422 if errors else 200


@bp.post("/shifts/<int:shift_id>/shadow/remove")
@admin_required
def unshadow(shift_id: int) -> ResponseReturnValue:
    admin_shadowing.unpair(current_runtime(), acting_admin(), shift_id, request.form.get("date", ""),
                           utc_now())
    flash(gettext("Shadowing session removed."))
    return redirect(_back(shift_id))


def _back(shift_id: int) -> str:
    line = request.form.get("line", type=id_or_error)
    week = request.form.get("week") or None
    if line is None:
        with current_runtime().sessions() as session:
            shift = session.get(Shift, shift_id)
            line = shift.line_id if shift else None
    return url_for("admin_roster.week", line=line, week=week)


# --------------------------------------------------------------------------- the roster file


@bp.route("/import", methods=["GET", "POST"])
@allows_body(MAX_UPLOAD_BYTES * 2 + 100_000, field_bytes=MAX_UPLOAD_BYTES)
@admin_required
def import_file() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("admin/roster_import.html", errors=None, text="", prune=False)
    upload = request.files.get("file")
    text = request.form.get("text", "")
    source = "pasted text"
    if upload is not None and upload.filename:
        raw = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            return _import_refused("", f"the file is larger than {MAX_UPLOAD_BYTES // 1000} kB", "", False)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _import_refused("", "the file is not UTF-8 text", "", False)
        source = upload.filename
    prune = request.form.get("prune") == "1"
    user = acting_admin()
    try:
        with current_runtime().sessions.begin() as session:
            report = import_roster_text(session, current_runtime().keys, text, prune=prune,
                                        actor=user.email, user_id=user.user_id,
                                        source=f"admin page: {source}", now=utc_now())
    except InvalidRosterError as exc:
        return render_template("admin/roster_import.html", errors=exc.errors, text=text,
                               prune=prune, source=source), 422
    sync_routing()
    flash(gettext("Roster imported (%(summary)s).", summary=report.summary()))
    return redirect(url_for("admin_roster.week"))


def _import_refused(path: str, message: str, text: str, prune: bool) -> ResponseReturnValue:
    return render_template("admin/roster_import.html", errors=[RosterError(path, message)], text=text,
                           prune=prune), 422


@bp.get("/export")
@admin_required
def export_file() -> ResponseReturnValue:
    runtime = current_runtime()
    user = acting_admin()
    with runtime.sessions.begin() as session:
        text = dump_roster(export_roster(session, runtime.keys))
        # The file holds peers' phones in clear: who took a copy is worth knowing.
        record_change(session, user, "roster.export", "roster file", {}, utc_now())
    stamp = utc_now().strftime("%Y%m%d-%H%M")
    return Response(text, mimetype="application/x-yaml", headers={
        "Content-Disposition": f'attachment; filename="warmline-roster-{stamp}.yaml"'})
