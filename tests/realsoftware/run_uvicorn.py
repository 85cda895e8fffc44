"""Launcher: uvicorn's h11 protocol (``--http h11``) serving ``tests/app.py`` on httpwire.http11.

    python tests/realsoftware/run_uvicorn.py [--port N] [--real-h11]

Installs the ``h11`` shim (see ``h11shim.py``) before uvicorn is imported, so uvicorn's
unmodified ``H11Protocol`` drives ``httpwire.http11``.  Binds 127.0.0.1 (port 0 by default),
prints ``LISTENING <port>`` on stdout once the socket listens, and serves until SIGTERM /
SIGINT.  ``--real-h11`` skips the shim (the same launcher on the real h11, for comparison).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/, for app.py


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--real-h11", action="store_true")
    args = parser.parse_args()

    import h11shim

    h11shim.setup(args.real_h11)

    import uvicorn
    from app import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    sock.set_inheritable(True)
    config = uvicorn.Config(app, http="h11", ws="none", lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    import h11

    print(f"LISTENING {sock.getsockname()[1]} h11={h11.__name__}", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
