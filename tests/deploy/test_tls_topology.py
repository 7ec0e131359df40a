"""The production topology as shipped: deploy/Caddyfile, started verbatim, terminating TLS (a
self-signed certificate made by openssl) in front of gunicorn started with the Procfile's `web`
command (by deploy/run-process, as the VPS's units do), with WARMLINE_ENV=production, an
https:// public URL and WARMLINE_PROXY_HOPS=1.

Through it: headless Chromium (which sends no Referer under the app's Referrer-Policy) signs in
and posts every kind of form (plain, multipart upload, htmx-boosted, set-password link, JSON API);
a plain HTTP client does the same with the token alone; posts from another site are refused; a
call through the stand-in, which calls the https:// URL and signs it, reaches a peer.

One gunicorn, one Caddy and one stand-in serve the whole module. RQ jobs run in this process
(the JobPump), on the same Redis and database, with the same production settings.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import select

from config import Settings, load_settings
from tests.support.dashboard import PASSWORD, make_peer
from tests.support.jobs import JobPump
from tests.support.live import LINE, ROSTER, SAM, SPEED
from tests.support.processes import tied_to_this_run
from tests.support.redis_servers import free_port
from tests.support.services import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_REDIS_URL, clean_database
from warmline.clock import utc_now
from warmline.models import Line, User
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.services.accounts.users import hash_password
from warmline.standin import Standin
from warmline.telephony.configure import configure_numbers
from warmline.telephony.signature import compute_signature

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("caddy") is None, reason="needs Caddy (apt-get install caddy)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl"),
]

REPO = Path(__file__).resolve().parents[2]
ADMIN = "casey@example.org"
SAM_EMAIL = "sam@example.org"
SAM_PASSWORD = "a long passphrase for sam"
CALLER = "+15005550006"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Topology:
    public_url: str
    http_port: int
    cert: Path
    settings: Settings
    runtime: Runtime
    standin: Standin
    pump: JobPump
    logs: dict[str, Path]

    def plain_client(self) -> requests.Session:
        session = requests.Session()
        session.verify = str(self.cert)
        return session

    def presence_of(self, email: str) -> str | None:
        from warmline.models import Peer
        from warmline.services import routing

        with self.runtime.sessions() as session:
            peer_id = session.scalars(select(Peer.id).where(Peer.email == email)).one()
        value = routing.routing_engine(self.runtime, utc_now()).presence(peer_id)
        return value.value if value else None


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(tied_to_this_run(command), cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own group: gunicorn's workers too
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_until_ready(url: str, cert: Path, processes: dict[str, subprocess.Popen[bytes]],
                      logs: dict[str, Path], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{logs[name].read_text()[-3000:]}")
        try:
            answer = requests.get(f"{url}/readyz", verify=str(cert), timeout=2)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise AssertionError(f"{url}/readyz never answered 200 ({last}):\n"
                         + "\n".join(f"--- {n}\n{p.read_text()[-2000:]}" for n, p in logs.items()))


@pytest.fixture(scope="module")
def topology(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    workdir = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed_certificate(workdir)
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    public_url = f"https://localhost:{https_port}"
    standin = Standin(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, speed=SPEED).start()
    app_env = {
        "WARMLINE_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_URL": standin.url,
        "WARMLINE_PUBLIC_URL": public_url,
        "WARMLINE_PROXY_HOPS": "1",
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WARMLINE_DATA_KEY": secrets.token_urlsafe(32),
        "WARMLINE_INSTANCE_DIR": str(workdir / "instance"),
    }
    settings = load_settings(app_env)
    runtime = build_runtime(settings)
    clean_database(runtime)
    runtime.redis.flushdb()
    set_process_runtime(runtime)
    # Twilio (the stand-in) must trust the certificate, as real Twilio trusts a real one.
    saved_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)

    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    web_env = {**os.environ, **app_env, "PATH": path, "PORT": str(web_port),
               "WEB_HOST": "127.0.0.1",  # as on the VPS: only the proxy reaches gunicorn
               "WEB_CONCURRENCY": "1", "WEB_THREADS": "8"}
    proxy_env = {**os.environ, "HOME": str(workdir), "XDG_DATA_HOME": str(workdir / "data"),
                 "XDG_CONFIG_HOME": str(workdir / "config"),
                 "WARMLINE_DOMAIN": "localhost", "WARMLINE_UPSTREAM": f"127.0.0.1:{web_port}",
                 "WARMLINE_TLS": "files", "WARMLINE_TLS_CERT": str(cert), "WARMLINE_TLS_KEY": str(key),
                 "CADDY_HTTPS_PORT": str(https_port), "CADDY_HTTP_PORT": str(http_port),
                 "CADDY_ADMIN": "off"}
    logs = {"web": workdir / "web.log", "proxy": workdir / "caddy.log"}
    processes = {
        # The Procfile's `web` line itself, run by the script the VPS's systemd units use.
        "web": _spawn([str(REPO / "deploy" / "run-process"), "web"], web_env, logs["web"]),
        "proxy": _spawn(["caddy", "run", "--config", str(REPO / "deploy" / "Caddyfile"),
                         "--adapter", "caddyfile"], proxy_env, logs["proxy"]),
    }
    pump = JobPump(runtime.redis).start()
    try:
        _wait_until_ready(public_url, cert, processes, logs)
        standin.add_number(LINE)
        yield Topology(public_url, http_port, cert, settings, runtime, standin, pump, logs)
    finally:
        pump.stop()
        standin.stop()
        for process in processes.values():
            _stop(process)
        if saved_bundle is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = saved_bundle
        set_process_runtime(None)
        runtime.redis.flushdb()
        runtime.close()
    assert standin.schema_failures == 0, "the app answered TwiML that breaks Twilio's schema"
    assert not pump.errors, pump.errors


@pytest.fixture
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    # The certificate is self-signed; Chromium is told to accept it, and nothing else changes.
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def _posts_to(page: Page, origin: str) -> list[Request]:
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and r.url.startswith(origin)
            else None)
    return sent


def _sam_can_sign_in(topology: Topology) -> None:
    """The roster and Sam's password, as the browser test makes them, for a test run alone."""
    with topology.runtime.sessions() as session:
        if session.scalars(select(User).where(User.email == SAM_EMAIL)).first() is None:
            import_roster_text(session, topology.runtime.keys, ROSTER, prune=False, actor="test",
                               user_id=None, source="test", now=datetime.now(UTC))
        user = session.scalars(select(User).where(User.email == SAM_EMAIL)).one()
        user.password_hash = hash_password(SAM_PASSWORD)
        session.commit()


def _sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_browser_signs_in_and_posts_every_kind_of_form_through_the_tls_proxy(
    topology: Topology, browser_context: BrowserContext, tmp_path: Path,
) -> None:
    url = topology.public_url
    make_peer(topology.runtime, ADMIN, name="Casey Coordinator", role="admin", phone="+15005550999")
    admin = browser_context.new_page()
    admin_posts = _posts_to(admin, url)

    # Sign-in (a plain form), then the roster imported as a file (a multipart form).
    _sign_in(admin, url, ADMIN, PASSWORD)
    expect(admin).to_have_url(re.compile(re.escape(url) + "/(admin/?|admin/board|dashboard)$"))
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER)
    admin.goto(f"{url}/admin/roster/import")
    admin.locator("#f-file").set_input_files(str(roster))
    admin.locator("#import-submit").click()
    admin.wait_for_load_state()
    with topology.runtime.sessions() as session:
        line_id = session.scalars(select(Line.id).where(Line.number == LINE)).one()
    # A line's own form, saved as it is.
    admin.goto(f"{url}/admin/lines/{line_id}")
    admin.locator("#save-line").click()
    admin.wait_for_load_state()
    expect(admin.locator(".error-summary")).to_have_count(0)
    # A set-password link for Sam (a small form on the peer's page); it carries the https URL.
    admin.goto(f"{url}/admin/peers")
    admin.get_by_role("link", name=re.compile("Sam")).first.click()
    admin.locator("#password-link").click()
    link = admin.locator("#invite-link").input_value()
    assert link.startswith(f"{url}/invite/"), link

    # Sam sets a password through the link, signs in, and goes available on the htmx-boosted
    # dashboard, whose script also posts the JSON API's heartbeat.
    sam = browser_context.browser.new_context(  # type: ignore[union-attr]
        ignore_https_errors=True).new_page()
    try:
        sam_posts = _posts_to(sam, url)
        sam.goto(link)
        sam.get_by_label("New password").fill(SAM_PASSWORD)
        sam.get_by_label("The same password again").fill(SAM_PASSWORD)
        sam.locator("#set-password").click()
        expect(sam.locator(".notice")).to_contain_text("Your password is set")
        with sam.expect_response(lambda r: r.url == f"{url}/api/heartbeat") as beat:
            _sign_in(sam, url, SAM_EMAIL, SAM_PASSWORD)
            expect(sam).to_have_url(f"{url}/dashboard")
        assert beat.value.status < 300, beat.value.status
        sam.locator("#presence-available").click()
        expect(sam.locator("#presence-available")).to_have_attribute("aria-pressed", "true")
        assert topology.presence_of(SAM_EMAIL) == "available"

        cookies = {c["name"]: c for c in sam.context.cookies(url)}
        session_cookie = cookies["warmline_session"]
        assert session_cookie["secure"] and session_cookie["httpOnly"]
        assert session_cookie["sameSite"] == "Lax"
        page_answer = sam.request.get(f"{url}/dashboard")
        assert page_answer.headers["strict-transport-security"].startswith("max-age=")

        # Signing out is a form too (in the page's header).
        sam.locator("#sign-out").click()
        expect(sam.locator("body")).to_contain_text("You are signed out.")

        # A heartbeat cut short by a page change has no answer: judged by the ones that ended.
        posts = [p for p in admin_posts + sam_posts if p.failure is None]
        paths = {p.url.removeprefix(url).split("?")[0] for p in posts}
        assert {"/sign-in", "/admin/roster/import", f"/admin/lines/{line_id}", "/dashboard/presence",
                "/api/heartbeat", "/sign-out"} <= paths, paths
        for post in posts:
            headers = post.all_headers()
            assert "referer" not in headers, (post.url, headers)  # the app's policy holds
            answer = post.response()
            assert answer is not None and answer.status < 400, (post.url, answer and answer.status)
        # What lets them through: the browser's own word that they came from this origin.
        assert {p.all_headers().get("sec-fetch-site") for p in posts} == {"same-origin"}
    finally:
        sam.context.close()


def test_a_post_from_another_site_is_refused_in_the_browser(
    topology: Topology, browser_context: BrowserContext,
) -> None:
    url = topology.public_url
    _sam_can_sign_in(topology)
    page = browser_context.new_page()
    _sign_in(page, url, SAM_EMAIL, SAM_PASSWORD)
    expect(page).to_have_url(f"{url}/dashboard")
    page.locator("#presence-available").click()
    expect(page.locator("#presence-available")).to_have_attribute("aria-pressed", "true")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    # Another site's page that posts to ours, even holding a valid token.
    attack = (f'<form id="f" method="post" action="{url}/dashboard/presence">'
              f'<input name="presence" value="off"><input name="csrf_token" value="{token}"></form>'
              '<script>document.getElementById("f").submit()</script>')
    page.route("https://evil.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=attack))
    with page.expect_response(f"{url}/dashboard/presence") as answer:
        page.goto("https://evil.example/")
    assert answer.value.status == 400
    assert topology.presence_of(SAM_EMAIL) == "available"


def _form_token(client: requests.Session, url: str) -> str:
    found = _CSRF_FIELD.search(client.get(url).text)
    assert found, url
    return found.group(1)


def test_a_plain_http_client_signs_in_posts_and_uses_the_api(topology: Topology) -> None:
    url = topology.public_url
    _sam_can_sign_in(topology)
    client = topology.plain_client()
    token = _form_token(client, f"{url}/sign-in")
    signed_in = client.post(f"{url}/sign-in", allow_redirects=False,
                            data={"email": SAM_EMAIL, "password": SAM_PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302, signed_in.text[:500]
    cookie = signed_in.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert signed_in.headers["Strict-Transport-Security"].startswith("max-age=")

    token = _form_token(client, f"{url}/dashboard")
    went = client.post(f"{url}/dashboard/presence", allow_redirects=False,
                       data={"presence": "break", "csrf_token": token})
    assert went.status_code == 302, went.text[:500]
    assert topology.presence_of(SAM_EMAIL) == "break"

    api_token = client.get(f"{url}/api/csrf").json()["csrf_token"]
    beat = client.post(f"{url}/api/heartbeat", headers={"X-CSRFToken": api_token})
    assert beat.status_code < 300, beat.text
    assert client.get(f"{url}/api/presence").json()["presence"] == "break"
    # The same valid cookie and token, from another origin: refused.
    forged = client.post(f"{url}/api/heartbeat", headers={
        "X-CSRFToken": api_token, "Origin": "https://evil.example"})
    assert forged.status_code == 400
    # Plain HTTP reaches the proxy only to be sent to HTTPS (on 443: the port in production).
    plain = requests.get(f"http://localhost:{topology.http_port}/sign-in", allow_redirects=False)
    assert plain.status_code in (301, 308)
    assert plain.headers["Location"] == "https://localhost/sign-in"


def test_a_call_through_the_stand_in_reaches_a_peer_via_the_https_url(topology: Topology) -> None:
    url = topology.public_url
    _sam_can_sign_in(topology)
    # `python -m warmline twilio configure`: the line's number calls the https:// public URL.
    configure_numbers(topology.runtime, topology.runtime.twilio)
    standin = topology.standin
    standin.peer_phone(SAM, mode="answer", answer_after=0.5, press={"Press 1 to accept": "1"})
    client = topology.plain_client()
    token = _form_token(client, f"{url}/sign-in")
    client.post(f"{url}/sign-in", data={"email": SAM_EMAIL, "password": SAM_PASSWORD,
                                        "csrf_token": token})
    token = _form_token(client, f"{url}/dashboard")
    client.post(f"{url}/dashboard/presence", data={"presence": "available", "csrf_token": token})
    assert topology.presence_of(SAM_EMAIL) == "available"

    call = standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    standin.wait_for(lambda: SAM in call.bridged_with(), timeout=60)
    call.hang_up()
    webhooks = standin.events("webhook")
    assert webhooks
    for event in webhooks:
        # Every request Twilio made went to the https:// URL and passed the signature check.
        assert event.data["url"].startswith(url + "/"), event.data["url"]
        assert event.data["status"] == 200, (event.data["url"], event.data["status"])
    # A forged signature through the same proxy is refused.
    form = {"CallSid": "CA" + "2" * 32, "From": CALLER, "To": LINE}
    forged = requests.post(f"{url}/twilio/voice", data=form, verify=str(topology.cert),
                           headers={"X-Twilio-Signature": compute_signature("not-the-token",
                                                                            f"{url}/twilio/voice", form)})
    assert forged.status_code == 403
    # Neither the proxy's access log nor gunicorn's holds the caller's number.
    for name, log in topology.logs.items():
        assert CALLER.removeprefix("+1") not in log.read_text(), name


def _access_log_entries(log: Path, path: str) -> list[str]:
    return [line for line in log.read_text().splitlines()
            if "http.log.access" in line and f'"uri": "{path}"' in line]


def test_the_proxys_access_log_keeps_no_client_address(topology: Topology) -> None:
    """A chatter's address is as personal as a caller's number: the access log names the request
    and its answer, never who sent it (the app keeps only a keyed hash of the address)."""
    path = "/chat/widget.js"
    answer = topology.plain_client().get(f"{topology.public_url}{path}")
    assert answer.status_code == 200
    deadline = time.monotonic() + 10
    while not _access_log_entries(topology.logs["proxy"], path) and time.monotonic() < deadline:
        time.sleep(0.1)  # Caddy writes the entry once the answer is sent
    entries = _access_log_entries(topology.logs["proxy"], path)
    assert entries, topology.logs["proxy"].read_text()[-2000:]
    for entry in entries:
        assert "remote_ip" not in entry and "client_ip" not in entry, entry
        assert "127.0.0.1" not in entry and "::1" not in entry, entry
