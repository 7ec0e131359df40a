"""The peer's say over their shifts: offer one up, take an open one, cover a gap (forms on the
dashboard; the rules are in warmline.services.peers.open_shifts)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.peers import dashboard as dashboard_service
from warmline.services.peers import open_shifts as service
from warmline.web.auth import peer_required, signed_in_peer_id
from warmline.web.context import current_runtime
from warmline.web.languages import N_, gettext

bp = Blueprint("peer_shifts", __name__, url_prefix="/dashboard")


def _back(anchor: str = "shifts-heading") -> ResponseReturnValue:
    return redirect(url_for("dashboard.dashboard") + f"#{anchor}")


@bp.post("/shifts/offer")
@peer_required
def offer() -> ResponseReturnValue:
    found = service.offer_shift(current_runtime(), signed_in_peer_id(),
                                request.form.get("shift", type=int) or 0,
                                request.form.get("date", ""), utc_now())
    if isinstance(found, dashboard_service.Refusal):
        flash(gettext(found.message))
    else:
        flash(gettext("Offered. Peers who share the line are told; you'll get a text when someone "
                      "takes it. Until then it's still yours."))
    return _back()


@bp.post("/open-shifts/<int:open_id>/take")
@peer_required
def take(open_id: int) -> ResponseReturnValue:
    result = service.take_open_shift(current_runtime(), signed_in_peer_id(), open_id,
                                     utc_now())
    flash(gettext(result.message if isinstance(result, dashboard_service.Refusal) else result))
    return _back("open-shifts-heading")


@bp.post("/open-shifts/<int:open_id>/withdraw")
@peer_required
def withdraw(open_id: int) -> ResponseReturnValue:
    refusal = service.withdraw_offer(current_runtime(), signed_in_peer_id(), open_id,
                                     utc_now())
    flash(gettext(refusal.message if refusal else N_("Withdrawn: the shift is yours again.")))
    return _back("open-shifts-heading")


@bp.post("/gaps/take")
@peer_required
def take_gap() -> ResponseReturnValue:
    result = service.take_gap(current_runtime(), signed_in_peer_id(),
                              request.form.get("line", type=int) or 0,
                              start_text=request.form.get("start", ""),
                              end_text=request.form.get("end", ""),
                              now=utc_now())
    flash(gettext(result.message if isinstance(result, dashboard_service.Refusal) else result))
    return _back("open-shifts-heading")
