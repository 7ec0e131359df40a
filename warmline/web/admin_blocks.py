"""Blocks: the list (never a number), lift, extend, and block the caller of a recent contact
from the live board."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.admin import blocks as service
from warmline.web.admin import acting_admin
from warmline.web.auth import admin_required
from warmline.web.context import current_runtime
from warmline.web.languages import N_, gettext, ngettext

bp = Blueprint("admin_blocks", __name__, url_prefix="/admin/blocks")

DEFAULT_DAYS = 30


@bp.get("")
@admin_required
def blocks() -> ResponseReturnValue:
    show_ended = request.args.get("all") == "1"
    with current_runtime().sessions() as session:
        rows = service.list_blocks(session, utc_now(), include_ended=show_ended)
    return render_template("admin/blocks.html", blocks=rows, show_ended=show_ended,
                           max_days=service.MAX_BLOCK_DAYS)


@bp.post("/<int:block_id>/lift")
@admin_required
def lift(block_id: int) -> ResponseReturnValue:
    with current_runtime().sessions.begin() as session:
        done = service.lift_block(session, acting_admin(), block_id, utc_now())
    flash(gettext(N_("Block lifted: the caller can reach the line again.") if done
                  else N_("That block had already ended.")))
    return redirect(url_for("admin_blocks.blocks"))


@bp.post("/<int:block_id>/extend")
@admin_required
def extend(block_id: int) -> ResponseReturnValue:
    days = request.form.get("days", type=int) or 0
    with current_runtime().sessions.begin() as session:
        refusal = service.extend_block(session, acting_admin(), block_id, days, utc_now())
    flash(gettext(refusal) if refusal else ngettext("Block extended by %(num)d day.",
                                                    "Block extended by %(num)d days.", days))
    return redirect(url_for("admin_blocks.blocks"))


@bp.post("/from-contact")
@admin_required
def from_contact() -> ResponseReturnValue:
    days = request.form.get("days", type=int) or 0
    with current_runtime().sessions.begin() as session:
        refusal = service.block_contact_caller(
            session, acting_admin(), request.form.get("contact", ""), days=days,
            reason=request.form.get("reason", ""), now=utc_now())
    if refusal is not None:
        flash(gettext(refusal))
        return redirect(url_for("admin_board.board") + "#recent-heading")
    flash(ngettext("Blocked for %(num)d day. The block is listed here.",
                   "Blocked for %(num)d days. The block is listed here.", days))
    return redirect(url_for("admin_blocks.blocks"))
