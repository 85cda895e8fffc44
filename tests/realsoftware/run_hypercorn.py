"""Launcher: hypercorn (asyncio worker) serving ``tests/app.py`` with h11 swapped for
httpwire.http11.

    python tests/realsoftware/run_hypercorn.py [--real-h11] [--max-seconds S]

Installs the ``h11`` shim (see ``h11shim.py``) before hypercorn is imported, so hypercorn's
unmodified HTTP/1.1 protocol (``hypercorn.protocol.h11``) drives ``httpwire.http11``; its
HTTP/2 side stays on ``h2``. Cleartext connections start in that HTTP/1.1 protocol, which
switches to HTTP/2 when the first event is the request ``PRI * HTTP/2.0`` (prior knowledge,
RFC 9113 section 3.3). Binds 127.0.0.1 on port 0, prints ``LISTENING <port> h11=<module>`` once
the socket listens, and serves until SIGTERM / SIGINT, or ``--max-seconds`` (default 120) at
most. ``--real-h11`` skips the shim (the same launcher on the real h11, for comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/, for app.py


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real-h11", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()

    import h11shim

    h11shim.setup(args.real_h11)

    import h11
    from app import app
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.loglevel = "WARNING"

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.call_later(args.max_seconds, stop.set)
        print(f"LISTENING {sock.getsockname()[1]} h11={h11.__name__}", flush=True)
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(run())


if __name__ == "__main__":
    main()
