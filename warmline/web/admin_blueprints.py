"""Registers the admin side's blueprints with one call from the app factory."""

from __future__ import annotations

from flask import Flask

from warmline.web import admin, admin_blocks, admin_board, admin_reports, admin_roster, invite


def register_admin_pages(app: Flask) -> None:
    for blueprint in (admin.bp, admin_roster.bp, admin_board.bp, admin_reports.bp, admin_blocks.bp,
                      invite.bp):
        app.register_blueprint(blueprint)
