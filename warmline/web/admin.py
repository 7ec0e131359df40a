"""Admin pages: lines, shared experiences, peers (invite, edit, deactivate, new link) and the audit trail.

Every form is checked by the roster file's own validator (warmline.roster), so the pages and
`roster import` accept exactly the same things; a refused form is shown again as typed, with each
message at its field.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError

from warmline.clock import utc_now
from warmline.models import Line
from warmline.roster.schema import DAYS
from warmline.services.admin import experiences as admin_experiences
from warmline.services.admin import lines as admin_lines
from warmline.services.admin import peers as admin_peers
from warmline.services.admin.audit import Actor, describe_detail, list_audit_entries
from warmline.services.admin.forms import FormErrors, FormValues
from warmline.services.routing_sync import refresh_all_lines
from warmline.web.auth import admin_required, current_user
from warmline.web.context import current_runtime
from warmline.web.ids import id_arg
from warmline.web.languages import N_, gettext

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN_NAV = (
    ("admin_board.board", N_("Live board")),
    ("admin_roster.week", N_("Roster")),
    ("admin.lines", N_("Lines")),
    ("admin.experiences", N_("Experiences")),
    ("admin.peers", N_("Peers")),
    ("admin_reports.reports", N_("Reports")),
    ("peer_hours.admin_hours", N_("Hours")),
    ("admin_blocks.blocks", N_("Blocks")),
    ("admin.audit", N_("Audit trail")),
)


def acting_admin() -> Actor:
    user = current_user()
    if user is None:  # admin_required has checked; this narrows the type
        abort(401)
    return Actor(user.id, user.email)


def submitted_form() -> FormValues:
    return FormValues({name: request.form.getlist(name) for name in request.form})


def sync_routing() -> None:
    """Bring routing in step with the change at once (the minute job would, within a minute)."""
    try:
        refresh_all_lines(current_runtime(), utc_now())
    except RedisError:
        log.warning("routing sync after an admin change failed; the minute job will retry")
        flash(gettext("Saved. Routing could not be updated right now; it catches up within a minute."))


@bp.app_context_processor
def _admin_context() -> dict[str, object]:
    return {"admin_nav": ADMIN_NAV, "role_labels": admin_peers.ROLE_LABELS}


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    return redirect(url_for("admin_board.board"))


# --------------------------------------------------------------------------- lines


@bp.get("/lines")
@admin_required
def lines() -> ResponseReturnValue:
    with current_runtime().sessions() as session:
        rows = admin_lines.list_lines(session)
        return render_template("admin/lines.html", lines=rows)


def _render_line(
    line: Line | None, form: FormValues, errors: FormErrors, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/line_form.html", line=line, form=form, errors=errors,
        hour_rows=admin_lines.hour_rows(form), days=DAYS, day_labels=admin_lines.WEEKDAY_LABELS,
        greeting_languages=admin_lines.greeting_languages(form),
    ), status


@bp.route("/lines/new", methods=["GET", "POST"])
@admin_required
def new_line() -> ResponseReturnValue:
    return _line_page(None)


@bp.route("/lines/<int:line_id>", methods=["GET", "POST"])
@admin_required
def edit_line(line_id: int) -> ResponseReturnValue:
    return _line_page(line_id)


def _line_page(line_id: int | None) -> ResponseReturnValue:
    runtime = current_runtime()
    with runtime.sessions() as session:
        line = session.get(Line, line_id) if line_id is not None else None
        if line_id is not None and line is None:
            abort(404)
        if request.method == "GET":
            return _render_line(line, admin_lines.line_form(line), FormErrors())
        form = submitted_form()
        if request.form.get("add_hour_row"):
            # Without script, "add an opening" posts the form back with one more blank row.
            form.set("hour_rows", str(admin_lines.hour_rows(form) + 1))
            return _render_line(line, form, FormErrors())
        result = admin_lines.save_line(runtime, acting_admin(), line_id, form, utc_now())
        if result.errors:
            return _render_line(line, form, result.errors, 422)
    sync_routing()
    flash(gettext("Line saved."))
    return redirect(url_for("admin.edit_line", line_id=result.row_id))


# --------------------------------------------------------------------------- experiences


def _render_experiences(form: FormValues, errors: FormErrors, status: int = 200) -> ResponseReturnValue:
    rows = admin_experiences.form_rows(form)
    return render_template("admin/experiences.html", form=form, errors=errors, rows=rows), status


@bp.route("/experiences", methods=["GET", "POST"])
@admin_required
def experiences() -> ResponseReturnValue:
    runtime = current_runtime()
    if request.method == "GET":
        with runtime.sessions() as session:
            form = admin_experiences.experiences_form(admin_experiences.list_experiences(session))
        return _render_experiences(form, FormErrors())
    form = submitted_form()
    errors = admin_experiences.save_experiences(runtime, acting_admin(), form, utc_now())
    if errors:
        return _render_experiences(form, errors, 422)
    sync_routing()
    flash(gettext("Experiences saved."))
    return redirect(url_for("admin.experiences"))


# --------------------------------------------------------------------------- peers


@bp.get("/peers")
@admin_required
def peers() -> ResponseReturnValue:
    return render_template("admin/peers.html", peers=admin_peers.list_peers(current_runtime(), utc_now()))


def _render_peer(
    peer_id: int | None, form: FormValues, errors: FormErrors, status: int = 200
) -> ResponseReturnValue:
    with current_runtime().sessions() as session:
        choices = admin_peers.experience_choices(session)
    summary = None
    if peer_id is not None:
        found = admin_peers.list_peers(current_runtime(), utc_now())
        summary = next((p for p in found if p.id == peer_id), None)
    return render_template(
        "admin/peer_form.html", peer_id=peer_id, peer=summary, form=form, errors=errors,
        experience_choices=choices, roles=admin_peers.ROLE_CHOICES,
        channels=admin_peers.CHANNEL_CHOICES,
    ), status


@bp.route("/peers/new", methods=["GET", "POST"])
@admin_required
def new_peer() -> ResponseReturnValue:
    runtime = current_runtime()
    if request.method == "GET":
        return _render_peer(None, admin_peers.peer_form(runtime, None) or FormValues(), FormErrors())
    form = submitted_form()
    saved = admin_peers.invite_peer(runtime, acting_admin(), form, utc_now())
    if saved.errors or saved.peer_id is None or saved.invite_token is None:
        return _render_peer(None, form, saved.errors, 422)
    sync_routing()
    return _render_link(saved.peer_id, saved.invite_token, invited=True)


def _render_link(peer_id: int, token: str, *, invited: bool) -> ResponseReturnValue:
    # Rendered in this response only: never flashed (the session cookie is signed, not secret)
    # and never stored in clear, so this page is the one time anyone sees it.
    summary = next(p for p in admin_peers.list_peers(current_runtime(), utc_now()) if p.id == peer_id)
    # Built on WARMLINE_PUBLIC_URL: behind a proxy the request's own host is not the one peers use.
    link = current_runtime().settings.public_url + url_for("invite.set_password", token=token)
    return render_template("admin/invite_link.html", peer=summary, link=link, invited=invited,
                           days=admin_peers.INVITE_DAYS)


@bp.route("/peers/<int:peer_id>", methods=["GET", "POST"])
@admin_required
def edit_peer(peer_id: int) -> ResponseReturnValue:
    runtime = current_runtime()
    if request.method == "GET":
        form = admin_peers.peer_form(runtime, peer_id)
        if form is None:
            abort(404)
        return _render_peer(peer_id, form, FormErrors())
    form = submitted_form()
    saved = admin_peers.update_peer(runtime, acting_admin(), peer_id, form, utc_now())
    if saved.errors:
        return _render_peer(peer_id, form, saved.errors, 422)
    sync_routing()
    flash(gettext("Peer saved."))
    return redirect(url_for("admin.edit_peer", peer_id=peer_id))


@bp.post("/peers/<int:peer_id>/deactivate")
@admin_required
def deactivate_peer(peer_id: int) -> ResponseReturnValue:
    if not admin_peers.set_peer_active(current_runtime(), acting_admin(), peer_id, False, utc_now()):
        abort(404)
    sync_routing()
    flash(gettext("Deactivated: they can no longer sign in or be offered contacts. Their shifts stay on "
                  "the roster."))
    return redirect(url_for("admin.edit_peer", peer_id=peer_id))


@bp.post("/peers/<int:peer_id>/activate")
@admin_required
def activate_peer(peer_id: int) -> ResponseReturnValue:
    if not admin_peers.set_peer_active(current_runtime(), acting_admin(), peer_id, True, utc_now()):
        abort(404)
    sync_routing()
    flash(gettext("Reactivated. Make them a new password link if they need one."))
    return redirect(url_for("admin.edit_peer", peer_id=peer_id))


@bp.post("/peers/<int:peer_id>/password-link")
@admin_required
def password_link(peer_id: int) -> ResponseReturnValue:
    token = admin_peers.make_password_link(current_runtime(), acting_admin(), peer_id, utc_now())
    if token is None:
        flash(gettext("A deactivated peer cannot get a password link: reactivate them first."))
        return redirect(url_for("admin.edit_peer", peer_id=peer_id))
    return _render_link(peer_id, token, invited=False)


# --------------------------------------------------------------------------- audit


@bp.get("/audit")
@admin_required
def audit() -> ResponseReturnValue:
    before = id_arg("before")
    with current_runtime().sessions() as session:
        entries = [
            {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
             "detail": describe_detail(e.detail)}
            for e in list_audit_entries(session, before_id=before)
        ]
    older = entries[-1]["id"] if len(entries) == 100 else None
    return render_template("admin/audit.html", entries=entries, older=older)
