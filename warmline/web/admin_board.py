"""The live board: support alerts first, then every waiting contact and every peer's presence.

It refreshes itself by htmx polling of one fragment, as the peer dashboard does (see
warmline.web.dashboard for why polling rather than a stream).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.admin.blocks import MAX_BLOCK_DAYS, list_recent_contacts
from warmline.services.admin.board import PRESENCE_LABELS, build_board
from warmline.services.peers.drop_ins import answer_ask
from warmline.services.peers.open_shifts import decide_open_shift
from warmline.web.admin import acting_admin
from warmline.web.auth import admin_required
from warmline.web.context import current_runtime
from warmline.web.dashboard import POLL_SECONDS
from warmline.web.languages import gettext

bp = Blueprint("admin_board", __name__, url_prefix="/admin/board")


def _context() -> dict[str, object]:
    return {"board": build_board(current_runtime(), utc_now()), "poll_seconds": POLL_SECONDS,
            "presence_labels": PRESENCE_LABELS}


@bp.get("")
@admin_required
def board() -> ResponseReturnValue:
    # Recent contacts sit outside the polled fragment, so a form being filled is never swapped.
    with current_runtime().sessions() as session:
        recent = list_recent_contacts(session, utc_now())
    return render_template("admin/board.html", recent=recent, max_block_days=MAX_BLOCK_DAYS,
                           **_context())


@bp.post("/drop-ins/<int:request_id>")
@admin_required
def answer_drop_in(request_id: int) -> ResponseReturnValue:
    admin = acting_admin()
    answer = answer_ask(current_runtime(), request_id, approve=request.form.get("answer") == "yes",
                        user_id=admin.user_id, actor=admin.email, now=utc_now())
    flash(gettext(answer))
    return redirect(url_for("admin_board.board"))


@bp.post("/swaps/<int:open_id>")
@admin_required
def answer_swap(open_id: int) -> ResponseReturnValue:
    admin = acting_admin()
    decided = decide_open_shift(current_runtime(), open_id, approve=request.form.get("answer") == "yes",
                                user_id=admin.user_id, actor=admin.email, now=utc_now())
    flash(gettext(decided))
    return redirect(url_for("admin_board.board"))


@bp.get("/live")
@admin_required
def live() -> ResponseReturnValue:
    return render_template("admin/_board_live.html", **_context())
