"""The Flask application factory: `warmline.app:create_app()` is what gunicorn serves."""

from __future__ import annotations

import gc

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings
from warmline.logs import configure_logging
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.services.peers.abuse import EndReportedContact
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.services.voice.backup_route import warm_backup_routes
from warmline.web import (
    api,
    auth,
    calendar,
    chat,
    dashboard,
    health,
    ids,
    languages,
    limits,
    outage,
    peer_hours,
    peer_shifts,
    security,
    sms,
    texts_api,
    voice,
)
from warmline.web.admin_blueprints import register_admin_pages
from warmline.web.context import RUNTIME_EXTENSION
from warmline.wiring import install_dispatchers


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the app. With no arguments, settings come from the environment (gunicorn's way),
    and the process serves this app alone: its startup heap is frozen (below)."""
    serving = settings is None and runtime is None
    settings = settings or (runtime.settings if runtime else load_settings())
    configure_logging(settings.log_level)
    runtime = runtime or build_runtime(settings)
    set_process_runtime(runtime)
    install_dispatchers()
    warm_backup_routes(runtime.sessions)

    app = Flask(__name__, static_folder="web/static", template_folder="web/templates")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
    )
    if settings.proxy_hops:
        # Exactly the configured number of proxies is believed about the client's address,
        # scheme (https) and host; with 0 a client's X-Forwarded-* headers change nothing.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.extensions[RUNTIME_EXTENSION] = runtime
    ids.init_app(app)  # before any route: every <int:...> becomes a bounded id
    for init_web in (security.init_app, auth.init_app, languages.init_app, api.init_app,
                     outage.init_app):
        init_web(app)
    limits.init_app(app, runtime)
    for blueprint in (health.bp, auth.bp, dashboard.bp, api.bp, calendar.bp, voice.bp):
        app.register_blueprint(blueprint)
    # Texts: the webhooks and the dashboard's conversation API.
    app.register_blueprint(sms.bp)
    app.register_blueprint(texts_api.bp)
    # Web chat: the widget other sites embed, and its API (answered in the texts pane).
    app.register_blueprint(chat.bp)
    # Admin side: lines, peers, roster week, live board, reports; invitation links.
    app.register_blueprint(peer_shifts.bp)
    app.register_blueprint(peer_hours.bp)
    register_admin_pages(app)
    # The dashboard's hooks: "need support" reaches off-shift admins by text; "end and report
    # abuse" hangs up the call or closes the conversation.
    dashboard.install_support_notifier(app, TextPeerNotifier(runtime))
    dashboard.install_abuse_report_hook(app, EndReportedContact(runtime))
    if serving:
        freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Move what startup made (modules, mappers, catalogs, the app) out of the collector's
    reach: they live as long as the process. Otherwise the first full collection under load
    walked all of it: 95-125 ms in each gunicorn worker, every request in it waiting, in the
    middle of bench/voice.py's voice phase (gc callbacks). Frozen, none came in the run; the
    collection here, before the first request, takes about 50 ms."""
    gc.collect()
    gc.freeze()
