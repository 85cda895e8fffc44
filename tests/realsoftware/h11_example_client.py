"""An HTTP/1.1 client written against h11's public API only, in the style of h11's own
documentation example (a blocking socket, ``send`` / ``receive_data`` / ``next_event``).

    python tests/realsoftware/h11_example_client.py [--shim] HOST PORT METHOD:PATH[:BODY] ...

Makes the requests one after another on one keep-alive connection (``start_next_cycle``
between them) and prints one JSON line per response: status, lowercased headers, body length,
body SHA-256, and the client's local port (same port = same connection).  ``--shim`` runs it
on ``httpwire.http11`` through ``h11shim`` instead of the real h11.  Exits non-zero on any
protocol error.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if "--shim" in sys.argv:
    sys.argv.remove("--shim")
    import h11shim

    h11shim.install()
    h11shim.check()

import h11  # noqa: E402  (after the optional shim, on purpose)


def next_event(conn: h11.Connection, sock: socket.socket) -> h11.Event:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(2048))
            continue
        return event  # type: ignore[return-value]


def request(
    conn: h11.Connection, sock: socket.socket, host: str, method: str, path: str, body: bytes
) -> dict[str, object]:
    headers = [("Host", host), ("User-Agent", "h11-example/1")]
    if body:
        headers.append(("Content-Length", str(len(body))))
    sock.sendall(conn.send(h11.Request(method=method, target=path, headers=headers)))
    if body:
        sock.sendall(conn.send(h11.Data(data=body)))
    sock.sendall(conn.send(h11.EndOfMessage()))
    digest = hashlib.sha256()
    length = 0
    response: h11.Response | None = None
    while True:
        event = next_event(conn, sock)
        if type(event) is h11.Response:
            response = event
        elif type(event) is h11.Data:
            digest.update(event.data)
            length += len(event.data)
        elif type(event) is h11.EndOfMessage:
            break
        elif type(event) is h11.ConnectionClosed:
            raise SystemExit("connection closed before the response ended")
    assert response is not None
    return {
        "status": response.status_code,
        "http_version": response.http_version.decode(),
        "headers": {k.decode(): v.decode("latin-1") for k, v in response.headers},
        "length": length,
        "sha256": digest.hexdigest(),
        "local_port": sock.getsockname()[1],
        "states": [repr(conn.our_state), repr(conn.their_state)],
    }


def main() -> None:
    host, port, *specs = sys.argv[1:]
    sock = socket.create_connection((host, int(port)), timeout=10)
    conn = h11.Connection(our_role=h11.CLIENT)
    for spec in specs:
        method, path, *rest = spec.split(":", 2)
        result = request(conn, sock, host, method, path, rest[0].encode() if rest else b"")
        print(json.dumps(result), flush=True)
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            break  # the server closes this connection
    conn.send(h11.ConnectionClosed())
    sock.close()
    print(json.dumps({"module": h11.Connection.__module__}), flush=True)


if __name__ == "__main__":
    main()
