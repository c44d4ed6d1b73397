"""Validation-code page for managers (and admins) at the till."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user

from portal.access import requires
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.models import Role
from portal.validation_codes import bp
from portal.validation_codes.forms import ValidationCodeForm
from portal.validation_codes.operations import (
    AlreadyRedeemed,
    UnknownCode,
    check_validation_code,
    redeem_validation_code,
)


@bp.route("", methods=["GET", "POST"])
@requires(Role.MANAGER, Role.ADMIN)
def check() -> Any:
    form = ValidationCodeForm()
    if not form.validate_on_submit():
        return render_template("codes/check.html", form=form), 400 if form.errors else 200
    secret = current_settings().secret_key
    try:
        status = check_validation_code(
            get_session(), secret, form.code.data or "", user=current_user
        )
    except UnknownCode as error:
        return render_template("codes/check.html", form=form, error=error), 404
    return render_template("codes/check.html", form=form, status=status)


@bp.post("/redeem")
@requires(Role.MANAGER, Role.ADMIN)
def redeem() -> Any:
    form = ValidationCodeForm()
    if not form.validate_on_submit():
        return render_template("codes/check.html", form=form), 400
    secret = current_settings().secret_key
    session = get_session()
    try:
        status = redeem_validation_code(
            session,
            secret,
            form.code.data or "",
            user=current_user,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
        session.commit()
    except (UnknownCode, AlreadyRedeemed) as error:
        session.rollback()
        return render_template("codes/check.html", form=form, error=error), error.status
    return render_template("codes/check.html", form=form, status=status, redeemed=True)
