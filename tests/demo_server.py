"""The demo server the README and docs/ examples talk to: ``bash scripts/serve``.

The tests' ASGI app (``tests/app.py``, every endpoint listed in its docstring: ``/json``,
``/echo``, ``/big``, ``/slow``, ``/redirect/N``, ``/status/N``, ``/cookies``, ``/basic-auth``,
``/digest-auth``, ``/stream/N``, ``/gzip`` ...), twice:

- ``http://127.0.0.1:8080``: cleartext HTTP/1.1 (uvicorn, as the tests' ``http_server``);
- ``https://127.0.0.1:8443``: hypercorn, HTTP/2 and HTTP/1.1 over TLS with a certificate for
  ``127.0.0.1`` and ``localhost`` from a CA generated at start (``trustme``), ALPN ``h2`` then ``http/1.1``. The CA certificate is
  written to ``DIR/ca.pem`` (``--dir``, default ``.demo/`` in the repository): pass it as
  ``--cacert`` / ``verify=``, or ``export SSL_CERT_FILE=DIR/ca.pem``.

``--port 0`` / ``--tls-port 0`` pick free ports (the doc-examples test does that and rewrites
the examples' 8080 / 8443). ``--for SECONDS`` stops the server after that long. The first line
printed on stdout is ``ready http://127.0.0.1:PORT https://127.0.0.1:PORT CA-PATH``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script: make app.py / h2servers.py importable
    sys.path.insert(0, str(HERE))

import trustme  # noqa: E402
from h2servers import HypercornServer  # noqa: E402
from servers import UvicornServer  # noqa: E402


class DemoServer:
    """Both listeners; ``http_url``, ``https_url`` and ``ca_path`` once :meth:`start` returned."""

    def __init__(self, directory: Path, port: int = 8080, tls_port: int = 8443) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        self.ca_path = str(directory / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        certfile, keyfile = str(directory / "server.pem"), str(directory / "server.key")
        cert.private_key_pem.write_to_path(keyfile)
        cert.cert_chain_pems[0].write_to_path(certfile)
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(certfile, append=True)
        self.plain = UvicornServer(port=port)
        self.tls = HypercornServer(certfile=certfile, keyfile=keyfile, port=tls_port)
        self.http_url = self.plain.url
        self.https_url = self.tls.url

    def start(self) -> DemoServer:
        self.plain.start()
        try:
            self.tls.start()
        except BaseException:
            self.plain.stop()
            raise
        return self

    def stop(self) -> None:
        self.tls.stop()
        self.plain.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/serve", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="cleartext port (default 8080)")
    parser.add_argument("--tls-port", type=int, default=8443, help="TLS port (default 8443)")
    parser.add_argument("--dir", default=str(HERE.parent / ".demo"), help="where ca.pem goes")
    parser.add_argument("--for", dest="duration", type=float, help="stop after SECONDS")
    args = parser.parse_args(argv)
    try:
        server = DemoServer(Path(args.dir), args.port, args.tls_port).start()
    except OSError as exc:
        print(f"scripts/serve: {exc} (--port 0 / --tls-port 0 pick free ports)", file=sys.stderr)
        return 1
    print(f"ready {server.http_url} {server.https_url} {server.ca_path}", flush=True)
    print(
        f"httpwire demo server (tests/app.py under uvicorn and hypercorn)\n"
        f"  {server.http_url}   HTTP/1.1\n"
        f"  {server.https_url}  HTTP/1.1 and HTTP/2 over TLS (ALPN); CA: {server.ca_path}\n"
        f"  try: httpwire {server.http_url}/json\n"
        f"       httpwire --cacert {server.ca_path} --http2 {server.https_url}/json\n"
        f"Ctrl-C stops it.",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
