"""Independent HTTP Digest servers (RFC 7616) for the auth tests, on 127.0.0.1.

- :class:`ApacheDigestServer`: Debian's ``/usr/sbin/apache2`` with ``mod_auth_digest``
  (algorithm MD5, qop ``auth``, nonce counts checked: ``AuthDigestNcCheck On``). Apache
  implements neither ``SHA-256`` nor ``auth-int``, and 2.4.71 refuses qop-less (RFC 2069)
  digest.
- :class:`LighttpdDigestServer`: Debian's ``/usr/sbin/lighttpd`` with ``mod_auth``, whose
  digest supports ``SHA-256`` (and MD5), qop ``auth``.

Both serve ``/private/secret.txt`` (:data:`SECRET`) to user :data:`USER` / :data:`PASSWORD`
in realm :data:`REALM`, and ``/open.txt`` without auth. Each writes its configuration to a fresh
directory (world-readable, since Apache's children drop root), binds a free port, is polled
until it accepts connections (bounded), and is stopped by PID in ``stop()``. ``scripts/test``
installs both packages; a missing binary raises RuntimeError (never a skip).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import typing
from pathlib import Path

from servers import HOST, free_port, wait_for_port

APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
LIGHTTPD = "/usr/sbin/lighttpd"
LIGHTTPD_MODULES = "/usr/lib/lighttpd"

USER = "Mufasa"
PASSWORD = "Circle of Life"
REALM = "httpwire digest test"
SECRET = b"the secret of the digest test\n"

APACHE_CONF = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen {host}:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
Mutex file:{root} default
ErrorLog "{root}/error.log"
LogLevel info
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule auth_digest_module {modules}/mod_auth_digest.so
{user}
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Require all granted
</Directory>
<Location "/private/">
    AuthType Digest
    AuthName "{realm}"
    AuthDigestDomain "/private/"
    AuthDigestProvider file
    AuthUserFile "{root}/htdigest"
    AuthDigestQop auth
    AuthDigestNcCheck On
    Require valid-user
</Location>
"""

LIGHTTPD_CONF = """\
server.document-root = "{root}/www"
server.bind = "{host}"
server.port = {port}
server.errorlog = "{root}/error.log"
server.pid-file = "{root}/lighttpd.pid"
server.modules = ("mod_auth", "mod_authn_file")
auth.backend = "plain"
auth.backend.plain.userfile = "{root}/users"
auth.require = (
    "/private/" => (
        "method" => "digest",
        "algorithm" => "{algorithm}",
        "realm" => "{realm}",
        "require" => "valid-user",
    ),
)
"""


class _DigestServer:
    """Common start/stop of a server binary run in the foreground from a config directory."""

    binary = ""
    package = ""

    def __init__(self) -> None:
        if not os.path.exists(self.binary):
            raise RuntimeError(
                f"{self.binary} is missing: install Debian's {self.package} "
                "(scripts/test does this) to run the Digest auth tests"
            )
        # Not pytest's tmp_path: its parents are 0700, and Apache's children drop root.
        self.root = Path(tempfile.mkdtemp(prefix="httpwire-digest-"))
        os.chmod(self.root, 0o755)
        www = self.root / "www"
        (www / "private").mkdir(parents=True)
        (www / "private" / "secret.txt").write_bytes(SECRET)
        (www / "open.txt").write_bytes(b"open\n")
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def write_config(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> typing.Self:
        for _attempt in range(3):  # the port may be taken between free_port() and bind
            self.port = free_port()
            self.url = f"http://{HOST}:{self.port}"
            argv = self.write_config()
            log = open(self.root / "stderr.log", "wb")  # noqa: SIM115 - closed below
            try:
                self.proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.root
                )
            finally:
                log.close()
            proc = self.proc
            try:
                wait_for_port(self.port, alive=lambda p=proc: p.poll() is None)
                return self
            except RuntimeError:
                self.stop(cleanup=False)
        log_text = self.log()
        self.stop()
        raise RuntimeError(f"{self.binary} did not start; its log says:\n{log_text}")

    def log(self) -> str:
        return "\n".join(
            (self.root / name).read_text(errors="replace")
            for name in ("stderr.log", "error.log")
            if (self.root / name).exists()
        )

    def stop(self, cleanup: bool = True) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if cleanup:
            shutil.rmtree(self.root, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class ApacheDigestServer(_DigestServer):
    """Apache httpd with mod_auth_digest (MD5, qop auth, nonce counts checked)."""

    binary = APACHE
    package = "apache2"

    def write_config(self) -> list[str]:
        ha1 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
        (self.root / "htdigest").write_text(f"{USER}:{REALM}:{ha1}\n")
        conf = self.root / "httpd.conf"
        conf.write_text(
            APACHE_CONF.format(
                root=self.root,
                host=HOST,
                port=self.port,
                modules=APACHE_MODULES,
                realm=REALM,
                # As root, the children run as "daemon"; otherwise as the current user.
                user="User daemon\nGroup daemon" if os.geteuid() == 0 else "",
            )
        )
        for path in self.root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        return [APACHE, "-d", str(self.root), "-f", str(conf), "-DFOREGROUND"]


class LighttpdDigestServer(_DigestServer):
    """lighttpd with mod_auth digest; ``algorithm`` is ``"SHA-256"`` or ``"MD5"``."""

    binary = LIGHTTPD
    package = "lighttpd"

    def __init__(self, algorithm: str = "SHA-256") -> None:
        super().__init__()
        self.algorithm = algorithm

    def write_config(self) -> list[str]:
        (self.root / "users").write_text(f"{USER}:{PASSWORD}\n")
        conf = self.root / "lighttpd.conf"
        conf.write_text(
            LIGHTTPD_CONF.format(
                root=self.root, host=HOST, port=self.port, realm=REALM, algorithm=self.algorithm
            )
        )
        return [LIGHTTPD, "-D", "-f", str(conf), "-m", LIGHTTPD_MODULES]
