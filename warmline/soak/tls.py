"""The soak's TLS front: `deploy/Caddyfile`, unchanged, with a self-signed certificate.

A warmline runs behind a TLS-terminating proxy with production settings, so the soak does too:
the stand-in calls the `https://` public URL, as Twilio would, and trusts the certificate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from warmline.soak.services import HOST, free_port

REPO = Path(__file__).resolve().parents[2]


class TlsFront:
    """Caddy in front of gunicorn on `upstream_port`; `public_url` is what Twilio is told."""

    def __init__(self, workdir: Path, upstream_port: int) -> None:
        caddy, openssl = shutil.which("caddy"), shutil.which("openssl")
        if caddy is None or openssl is None:
            raise RuntimeError("the soak runs behind deploy/Caddyfile: install caddy "
                               "(scripts/test does, from Debian's packages) and openssl")
        self._caddy, self._openssl = caddy, openssl
        self.workdir = workdir
        self.upstream_port = upstream_port
        self.https_port, self.http_port = free_port(), free_port()
        self.public_url = f"https://localhost:{self.https_port}"
        self.cert, self.key = workdir / "cert.pem", workdir / "key.pem"
        self._process: subprocess.Popen[bytes] | None = None
        self._saved_bundle: str | None = None

    def start(self) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [self._openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(self.key),
             "-out", str(self.cert), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
        env = {**os.environ, "HOME": str(self.workdir), "XDG_DATA_HOME": str(self.workdir / "data"),
               "XDG_CONFIG_HOME": str(self.workdir / "config"), "WARMLINE_DOMAIN": "localhost",
               "WARMLINE_UPSTREAM": f"{HOST}:{self.upstream_port}", "WARMLINE_TLS": "files",
               "WARMLINE_TLS_CERT": str(self.cert), "WARMLINE_TLS_KEY": str(self.key),
               "CADDY_HTTPS_PORT": str(self.https_port), "CADDY_HTTP_PORT": str(self.http_port),
               "CADDY_ADMIN": "off"}
        with (self.workdir / "caddy.log").open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - the repo's own proxy config
                [self._caddy, "run", "--config", str(REPO / "deploy" / "Caddyfile"),
                 "--adapter", "caddyfile"], env=env, stdout=log, stderr=subprocess.STDOUT)
        # The stand-in (Twilio) trusts this certificate, as real Twilio trusts a real one.
        self._saved_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = str(self.cert)

    def stop(self) -> None:
        if self._saved_bundle is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = self._saved_bundle
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
