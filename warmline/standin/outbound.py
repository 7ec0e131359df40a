"""Outbound REST calls: paced start, ringing, machine detection, then the call's TwiML."""

from __future__ import annotations

import contextlib
import time

from warmline.standin.model import CallStatus, Leg, Source
from warmline.standin.network import LegGone, Network, Redirected
from warmline.standin.voice import Interpreter


def run_outbound(net: Network, leg: Leg, source: Source) -> None:
    """Owns `leg` from `queued` to its final status."""
    start_at = net.pacer.slot()
    with net.cond:
        while not leg.hung_up and not net.closed and time.monotonic() < start_at:
            net.cond.wait(start_at - time.monotonic())
        cancelled = leg.hung_up or net.closed
    if cancelled:
        net.finish(leg, CallStatus.CANCELED)
        return
    net.record.add("initiated", leg.sid, to=leg.to, from_=leg.from_)
    net.status_event(leg, "initiated")
    status = net.ring(leg, leg.timeout, cancelled=lambda: False)
    if status is not None:
        net.finish(leg, status)
        return
    if leg.machine_detection:
        if leg.async_amd:
            net.spawn(lambda: _async_amd(net, leg), f"amd-{leg.sid}")
        else:
            with contextlib.suppress(LegGone, Redirected):
                net.wait(leg, net.config.amd_seconds)  # Twilio listens before fetching Url
    Interpreter(net, leg).run(source)


def _async_amd(net: Network, leg: Leg) -> None:
    time.sleep(net.clock.real(net.config.amd_seconds))
    if not leg.async_amd_callback or leg.final:
        return
    params = net.call_params(leg)
    params["AnsweredBy"] = leg.answered_by or "unknown"
    params["MachineDetectionDuration"] = str(int(net.config.amd_seconds * 1000))
    net.record.add("amd_result", leg.sid, answered_by=params["AnsweredBy"])
    net.webhooks.request(leg.async_amd_callback, "POST", params,
                         net.config.webhook_deadline, purpose="amd",
                         call_sid=leg.sid)
