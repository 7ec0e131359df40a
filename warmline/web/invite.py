"""The one-time link an invited peer (or one whose password an admin reset) sets a password with."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from warmline.clock import utc_now
from warmline.services.accounts.invites import find_invitation, redeem_invitation
from warmline.services.accounts.users import MIN_PASSWORD_LENGTH, PasswordRejectedError
from warmline.web.context import current_runtime
from warmline.wording import N_

bp = Blueprint("invite", __name__)

_SPENT = ("This link does not work any more: it was used already, it expired, or a newer one was"
          " made. Ask an admin of your line for a new link.")


@bp.route("/invite/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    runtime = current_runtime()
    now = utc_now()
    invitation = find_invitation(runtime, token, now)
    if invitation is None:
        return render_template("admin/invite_set_password.html", invitation=None, spent=_SPENT), 404
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            error = "The two passwords are not the same."
        else:
            try:
                email = redeem_invitation(runtime, token, password, now)
            except PasswordRejectedError as exc:
                error = f"Choose another password: {exc}."
            else:
                if email is None:
                    return render_template("admin/invite_set_password.html", invitation=None,
                                           spent=_SPENT), 404
                flash(N_("Your password is set. Sign in with it now."))
                return redirect(url_for("auth.sign_in"))
    return render_template("admin/invite_set_password.html", invitation=invitation, error=error,
                           min_length=MIN_PASSWORD_LENGTH), 422 if error else 200
