"""The peer dashboard: presence, live queue, wrap-up, callbacks, support, shifts and calendar link.

Live updates are htmx polling of one fragment every few seconds, not a server-sent event stream.
A stream holds one gunicorn thread for as long as a dashboard is open, so a room of peers on
shift would take threads from Twilio's webhooks; a poll holds a thread for the few milliseconds
of one render. Routing itself is event-driven on the server (DESIGN.md): the dashboard only
displays it, and a few seconds of display lag never delays a ring. The browser's own script
skips a swap when the fragment did not change, so focus and screen readers are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_limiter import RequestLimit

from warmline.clock import utc_now
from warmline.services.peers import calendar as calendar_service
from warmline.services.peers import dashboard as service
from warmline.services.peers import drop_ins as drop_ins_service
from warmline.services.peers import open_shifts as open_shifts_service
from warmline.services.peers import rest as rest_service
from warmline.services.peers import support as support_service
from warmline.services.voice import mentor as mentor_service
from warmline.services.voice import transfer as transfer_service
from warmline.voice.state import MentorOnCall, Transfer
from warmline.web import limits
from warmline.web.auth import admin_required, current_user, peer_required, signed_in_peer_id
from warmline.web.context import current_runtime
from warmline.web.languages import N_, gettext, ngettext

bp = Blueprint("dashboard", __name__)

SUPPORT_NOTIFIER_EXTENSION = "warmline.support_notifier"
ABUSE_REPORT_HOOK_EXTENSION = "warmline.abuse_report_hook"
_NEW_CALENDAR_LINK_KEY = "new_calendar_link"  # session key: a calendar link made, shown once


def install_support_notifier(app: Flask, notifier: support_service.SupportAlertNotifier) -> None:
    """The SMS notifier is installed here (create_app, after the blueprints)."""
    app.extensions[SUPPORT_NOTIFIER_EXTENSION] = notifier


def install_abuse_report_hook(app: Flask, hook: service.AbuseReportHook) -> None:
    """Installs what hangs up a call (or closes a conversation) reported for abuse."""
    app.extensions[ABUSE_REPORT_HOOK_EXTENSION] = hook


def support_notifier() -> support_service.SupportAlertNotifier:
    found: support_service.SupportAlertNotifier = current_app.extensions.get(
        SUPPORT_NOTIFIER_EXTENSION, support_service.LoggingSupportNotifier()
    )
    return found


def abuse_report_hook() -> service.AbuseReportHook:
    found: service.AbuseReportHook = current_app.extensions.get(
        ABUSE_REPORT_HOOK_EXTENSION, service.LoggingAbuseReportHook()
    )
    return found

POLL_SECONDS = 4
PRESENCE_CHOICES = (("available", N_("Available")), ("break", N_("Break")), ("off", N_("Off")))
PRESENCE_MESSAGES = {
    "available": N_("You're available"),
    "break": N_("You're on a break"),
    "off": N_("You're off"),
    "wrap_up": N_("Wrap-up: take a breath"),
    "offered": N_("Your phone is ringing"),
    "busy": N_("You're with a caller"),
}


@dataclass(frozen=True)
class LiveState:
    """What the presence panel shows."""

    presence: str
    selected: str  # which of available / break / off is lit
    headline: str
    detail: str
    on_shift: bool
    wrap_up_until_iso: str
    wrap_up_until_label: str
    contact_id: str | None
    rest_due: str = ""  # the back-to-back limit's kind words, while it holds the peer


def _clock(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _day_clock(at: datetime, zone: str) -> str:
    found: str = format_datetime(at.astimezone(ZoneInfo(zone)), "EEE HH:mm", rebase=False)
    return found


def describe_standing(standing: service.ShiftStanding, zone: str | None) -> str:
    """ "You're on shift until 13:00" / "You're not on shift: next shift Tue 09:00"."""
    if standing.on_shift_until is not None and zone is not None:
        return gettext("You're on shift until %(time)s.", time=_clock(standing.on_shift_until, zone))
    if standing.next_start is not None:
        nxt = standing.next_start
        return gettext("You're not on shift. Next shift %(when)s.",
                       when=_day_clock(nxt.start, nxt.timezone))
    return gettext("You're not on shift, and no shift is planned in the next 14 days.")


def build_live_state(peer_id: int, now: datetime) -> LiveState:
    runtime = current_runtime()
    standing = service.find_shift_standing(runtime, peer_id, now)
    zone = service.standing_zone(runtime, standing)
    snapshot = service.read_presence(runtime, peer_id, now)
    presence = snapshot.presence
    detail = describe_standing(standing, zone)
    dropping_in = drop_ins_service.drop_in_ends_at(runtime, peer_id, now)
    if dropping_in is not None and not standing.on_shift:
        detail = gettext("You're dropping in until %(time)s.",
                         time=_clock(dropping_in, zone or "UTC"))
    if presence == "break":
        detail = gettext("Nothing is offered to you until you go available.") + " " + detail
    elif presence == "off" and standing.on_shift:
        detail += " " + gettext("Go available when you're ready.")
    selected = presence if presence in ("available", "break", "off") else "available"
    until = snapshot.wrap_up_until
    until_zone = zone or "UTC"
    reached = rest_service.read_rest_due(runtime, peer_id, now)
    rest_due = ""
    if reached is not None and presence not in ("break", "off"):
        rest_due = ngettext(
            "You've been with %(num)d person in a row. That's a lot to hold: nothing more will be "
            "offered to you until you take a break. Ten minutes is yours.",
            "You've been with %(num)d people in a row. That's a lot to hold: nothing more will be "
            "offered to you until you take a break. Ten minutes is yours.", reached[0])
    return LiveState(
        presence=presence,
        selected=selected,
        headline=gettext(PRESENCE_MESSAGES[presence]) if presence in PRESENCE_MESSAGES else presence,
        detail=detail,
        on_shift=standing.on_shift,
        wrap_up_until_iso=until.isoformat() if until else "",
        wrap_up_until_label=_clock(until, until_zone) if until else "",
        contact_id=snapshot.contact_id,
        rest_due=rest_due,
    )


def _live_context(peer_id: int, error: str | None = None) -> dict[str, object]:
    runtime = current_runtime()
    now = utc_now()
    callbacks = service.list_callbacks(runtime, peer_id)
    return {
        "state": build_live_state(peer_id, now),
        "queue": service.read_queue(runtime, peer_id, now),
        "callbacks": [
            {
                "id": cb.id,
                "line_name": cb.line_name,
                "experience": cb.experience,
                "taken_by_me": cb.taken_by_me,
                "window_label": (
                    f"{_day_clock(cb.window_start, cb.timezone)}–{_clock(cb.window_end, cb.timezone)}"
                ),
            }
            for cb in callbacks
        ],
        "choices": [(value, gettext(label)) for value, label in PRESENCE_CHOICES],
        "poll_seconds": POLL_SECONDS,
        "block_days": service.BLOCK_DAYS,
        "transfer": transfer_service.transfer_of(runtime, peer_id, now),
        "mentor": mentor_service.mentor_of(runtime, peer_id, now),
        "mentor_alert": mentor_service.alert_for(runtime, peer_id, now),
        "error": error,
    }


@bp.get("/")
def home() -> ResponseReturnValue:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if user.is_admin:  # an admin's home is the live board; a peer-admin reaches theirs from it
        return redirect(url_for("admin_board.board"))
    return redirect(url_for("dashboard.dashboard"))


@bp.get("/dashboard")
@peer_required
def dashboard() -> ResponseReturnValue:
    peer_id = signed_in_peer_id()
    return _render_dashboard(peer_id)


def _render_dashboard(peer_id: int, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    runtime = current_runtime()
    now = utc_now()
    # The token is stored only hashed: its link can be shown once, on the page after it was made.
    token = session.pop(_NEW_CALENDAR_LINK_KEY, None)
    with runtime.sessions() as db:
        lines = [(line.id, line.name) for line in service.list_peer_lines(db, peer_id)]
    return render_template(
        "dashboard.html",
        open_shifts=open_shifts_service.list_open_shifts(runtime, peer_id, now),
        offered_days=open_shifts_service.list_offered_days(runtime, peer_id),
        open_gaps=open_shifts_service.list_open_gaps(runtime, peer_id, now),
        now=now,
        drop_in_lines=lines,
        drop_in_minutes=drop_ins_service.DROP_IN_MINUTES,
        peer_name=service.peer_first_name(runtime, peer_id),
        shifts=service.list_upcoming_shifts(runtime, peer_id, now),
        calendar_url=(
            url_for("calendar.feed", token=token, _external=True) if token else None
        ),
        has_calendar_link=calendar_service.has_calendar_link(runtime, peer_id),
        heartbeat_seconds=service.HEARTBEAT_INTERVAL_SECONDS,
        **_live_context(peer_id, error),
    ), status


@bp.get("/dashboard/live")
@peer_required
def live() -> ResponseReturnValue:
    return render_template("_live.html", **_live_context(signed_in_peer_id()))


@bp.post("/dashboard/presence")
@peer_required
def presence() -> ResponseReturnValue:
    peer_id = signed_in_peer_id()
    wanted = request.form.get("presence", "")
    refusal = service.change_presence(current_runtime(), peer_id, wanted, utc_now())
    if refusal is not None:
        # Rendered in place (not redirected) so the refusal is read out where the control is.
        return _render_dashboard(peer_id, error=refusal.message, status=refusal.status)
    return redirect(url_for("dashboard.dashboard"))


@bp.post("/dashboard/drop-in")
@peer_required
def drop_in() -> ResponseReturnValue:
    """Ask to work a line now, outside a shift; an admin answers from the board or by text."""
    asked = drop_ins_service.ask_to_drop_in(
        current_runtime(), signed_in_peer_id(), request.form.get("line", type=int) or 0,
        request.form.get("minutes", type=int) or 0, utc_now())
    if isinstance(asked, service.Refusal):
        flash(gettext(asked.message))
    else:
        flash(gettext("Asked. You'll be available as soon as an admin says yes (you'll get a text too)."))
    return redirect(url_for("dashboard.dashboard") + "#drop-in-heading")


@bp.post("/dashboard/rest-break")
@peer_required
def rest_break() -> ResponseReturnValue:
    """The 10-minute break the back-to-back limit offers; it ends by itself."""
    refusal = rest_service.take_rest_break(current_runtime(), signed_in_peer_id(),
                                           utc_now())
    if refusal is not None:
        return _render_dashboard(signed_in_peer_id(), error=refusal.message,
                                 status=refusal.status)
    flash(gettext("You're on a 10-minute break. You'll be available again by yourself; "
                  "choose Available to come back sooner."))
    return redirect(url_for("dashboard.dashboard"))


@bp.post("/dashboard/wrap-up/extend")
@peer_required
def wrap_up_extend() -> ResponseReturnValue:
    refusal = service.extend_wrap_up(current_runtime(), signed_in_peer_id(), utc_now())
    if refusal is not None:
        flash(gettext(refusal.message))
    return redirect(url_for("dashboard.dashboard"))


@bp.post("/dashboard/callbacks/<int:callback_id>/take")
@peer_required
def take_callback(callback_id: int) -> ResponseReturnValue:
    refusal = service.take_callback(current_runtime(), signed_in_peer_id(), callback_id)
    if refusal is service.TakeRefusal.NOT_FOUND:
        flash(gettext("That callback is not on your lines."))
    elif refusal is service.TakeRefusal.TAKEN:
        flash(gettext("Someone else has already taken that callback."))
    else:
        flash(gettext("The callback is yours: you'll be rung first, then the caller."))
    return redirect(url_for("dashboard.dashboard"))


def _support_already_asked(limit: RequestLimit) -> Response:
    wait = max(1, round(limits.seconds_until_reset(limit) / 60))
    flash(ngettext("Your admins were told a few minutes ago and someone will reach out. You can ask "
                   "again in %(num)d minute.",
                   "Your admins were told a few minutes ago and someone will reach out. You can ask "
                   "again in %(num)d minutes.", wait))
    # Flask-Limiter uses the answer only when it is Flask's own Response class.
    return current_app.make_response(redirect(url_for("dashboard.dashboard")))


@bp.post("/dashboard/support")
@limits.limiter.shared_limit(limits.SUPPORT_ALERTS_PER_PEER, scope=limits.SUPPORT_SCOPE,
                             key_func=limits.signed_in_user, deduct_when=limits.succeeded,
                             on_breach=_support_already_asked)
@peer_required
def support() -> ResponseReturnValue:
    user = current_user()
    if user is None:  # peer_required has checked; this narrows the type
        return redirect(url_for("auth.sign_in"))
    alert = support_service.raise_support_alert(
        current_runtime(),
        support_notifier(),
        user_id=user.id,
        actor=user.email,
        peer_id=signed_in_peer_id(),
        now=utc_now(),
    )
    if alert.admins_on_shift:
        flash(gettext("The admins on shift have been told. Someone will reach out to you soon."))
    else:
        flash(gettext("No admin is on shift, so your line's admins are being texted. Take a moment."))
    return redirect(url_for("dashboard.dashboard"))


@bp.post("/dashboard/report-abuse")
@peer_required
def report_abuse() -> ResponseReturnValue:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    result = service.report_abuse(
        current_runtime(), user_id=user.id, actor=user.email, peer_id=signed_in_peer_id(),
        now=utc_now(), hook=abuse_report_hook(),
    )
    if isinstance(result, service.Refusal):
        flash(gettext(result.message))
    elif result.blocked_days:
        flash(gettext("Ended. This caller cannot reach the line for %(days)s days.",
                      days=result.blocked_days))
    else:
        flash(gettext("Ended. The caller withheld their number, so only this call could be blocked."))
    return redirect(url_for("dashboard.dashboard"))


def _after_transfer_step(result: Transfer | MentorOnCall | transfer_service.Refusal,
                         done: str) -> ResponseReturnValue:
    flash(gettext(result.message) if isinstance(result, transfer_service.Refusal) else done)
    return redirect(url_for("dashboard.dashboard") + "#presence-heading")


@bp.post("/dashboard/transfer")
@peer_required
def transfer() -> ResponseReturnValue:
    """Warm transfer, first step: ring the crisis line or the admin on shift into the call, or
    ask routing for another peer."""
    try:
        target = transfer_service.Target(request.form.get("target", ""))
    except ValueError:
        flash(gettext("Choose the crisis line or the admin on shift."))
        return redirect(url_for("dashboard.dashboard"))
    result = transfer_service.bring_in(current_runtime(), signed_in_peer_id(), target, utc_now())
    return _after_transfer_step(result, gettext(
        "Looking for another peer on shift. You can hold the caller while you brief them.")
        if target is transfer_service.Target.PEER else gettext(
        "Calling them into your call now. You can hold the caller while you brief them."))


@bp.post("/dashboard/transfer/hold")
@peer_required
def transfer_hold() -> ResponseReturnValue:
    held = request.form.get("held") == "1"
    result = transfer_service.hold_caller(current_runtime(), signed_in_peer_id(), held, utc_now())
    return _after_transfer_step(result, gettext("The caller is on hold and hears music.") if held
                                else gettext("The caller is back on the call."))


@bp.post("/dashboard/transfer/hand-over")
@peer_required
def transfer_hand_over() -> ResponseReturnValue:
    result = transfer_service.hand_over(current_runtime(), signed_in_peer_id(), utc_now())
    return _after_transfer_step(result, gettext(
        "Handed over. The caller stays on the line with them. Thank you."))


@bp.post("/dashboard/transfer/cancel")
@peer_required
def transfer_cancel() -> ResponseReturnValue:
    result = transfer_service.cancel(current_runtime(), signed_in_peer_id(), utc_now())
    return _after_transfer_step(result, gettext("Stopped. It is just you and the caller again."))


@bp.post("/dashboard/mentor")
@peer_required
def mentor() -> ResponseReturnValue:
    """"Need support", during a call: a mentor listens in, heard by the peer only."""
    result = mentor_service.ask_mentor(current_runtime(), signed_in_peer_id(), utc_now())
    return _after_transfer_step(result, gettext(
        "A mentor is being rung and texted. When they join, only you will hear them."))


@bp.post("/dashboard/mentor/speak")
@peer_required
def mentor_speak() -> ResponseReturnValue:
    result = mentor_service.let_mentor_speak(current_runtime(), signed_in_peer_id(), utc_now())
    return _after_transfer_step(result, gettext("Your mentor can now talk with the caller too."))


def _after_mentor_answer(result: str | transfer_service.Refusal) -> ResponseReturnValue:
    flash(gettext(result.message if isinstance(result, transfer_service.Refusal) else result))
    return redirect(url_for("dashboard.dashboard") + "#presence-heading")


@bp.post("/dashboard/mentor/join")
@peer_required
def mentor_join() -> ResponseReturnValue:
    """A mentor answers a peer's call for support from their own dashboard."""
    return _after_mentor_answer(mentor_service.join_from_alert(current_runtime(),
                                                               signed_in_peer_id(), utc_now()))


@bp.post("/dashboard/mentor/decline")
@peer_required
def mentor_decline() -> ResponseReturnValue:
    """"Can't now": the next free mentor is asked instead."""
    return _after_mentor_answer(mentor_service.decline(current_runtime(), signed_in_peer_id(),
                                                       utc_now()))


@bp.post("/dashboard/mentor/unmute")
@peer_required
def mentor_unmute() -> ResponseReturnValue:
    """A shadowing mentor speaks up, to the peer only."""
    return _after_mentor_answer(mentor_service.unmute(current_runtime(), signed_in_peer_id(),
                                                      utc_now()))


@bp.post("/dashboard/calendar")
@peer_required
def calendar_link() -> ResponseReturnValue:
    renew = request.form.get("renew") == "1"
    token = calendar_service.issue_calendar_token(current_runtime(), signed_in_peer_id())
    session[_NEW_CALENDAR_LINK_KEY] = token
    flash(gettext("Your new calendar link is ready.") if renew else gettext("Your calendar link is ready."))
    return redirect(url_for("dashboard.dashboard") + "#shifts-heading")


@bp.get("/admin/support-alerts")
@admin_required
def support_alerts() -> ResponseReturnValue:
    """The old address of the alerts: they are on the live board now, at its top."""
    return redirect(url_for("admin_board.board") + "#alerts-heading")
