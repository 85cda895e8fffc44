r"""Every code example of the three seed documents (``../shared/seeds/``), run as written.

- ``000_*`` / ``001_*``: httpnext's networking page ("Network Backends"): examples N1-N9 below,
  each in the flavours the page shows (``httpx``: sync; ``ahttpx``: asyncio and trio).
- ``002_*``: httpcore's "Extensions" page: examples E1-E11 (sync, as the page shows).
- ``003_*``: h11's "Getting started" page: blocks H1-H10, one session in document order (the
  blocks share their variables, as in the page's IPython session).

Each example's text below is the seed's, character for character (``>>>`` prompts and the
output lines that follow them included), so it can be diffed against the seed. It is run
through :data:`SUBSTITUTIONS` (names and hosts) and :data:`SEED_TYPOS` (slips in the seed that
no implementation could run; each is listed with the reason), then executed statement by
statement: a bare expression followed by an output line in the seed must have that ``repr()``
(after :data:`OUTPUT_SUBSTITUTIONS`), and every example has checks of its own on what it
printed or left behind, so each can fail.

The environment stands in for the public internet: ``www.example.com`` (https) is uvicorn with a
certificate from the tests' trustme CA, ``www.encode.io`` / ``dev.encode.io`` (port 80) the plain
uvicorn server, ``your-tunnel-proxy.com`` tinyproxy, and ``127.0.0.1:8000`` (the websocket
example) a ``websockets`` echo server. The library's default TLS context trusts the test CA for
the duration of a test (as the system store trusts the real sites' CAs).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import socket
import ssl
import textwrap
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from app import HELLO
from servers import Tinyproxy, UvicornServer
from test_proxy_tunnel import proxy  # noqa: F401 - the tinyproxy fixture
from test_upgrade import EchoServer, ws_server  # noqa: F401 - the websocket server fixture

import ahttpwire
import httpwire
from httpwire import _api_clients, _ssl
from httpwire import http11 as h11

# The project's shared/ folder lies beside the clone (``../shared``), for developers and CI alike.
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"

# -- the seed texts -------------------------------------------------------------------------------

# The networking page (000/001). Sync examples are the ``httpx`` column, async ones ``ahttpx``.
NETWORKING: dict[str, dict[str, str]] = {
    "N1 NetworkBackend()": {
        "sync": """
>>> net = httpx.NetworkBackend()
>>> net
<NetworkBackend [threaded]>
""",
        "async": """
>>> net = ahttpx.NetworkBackend()
>>> net
<NetworkBackend [asyncio]>
""",
    },
    "N2 .connect(host, port)": {
        "sync": """
>>> net = httpx.NetworkBackend()
>>> stream = net.connect("www.encode.io", 80)
>>> stream
<NetworkStream ["168.0.0.1:80"]>
""",
        "async": """
>>> net = ahttpx.NetworkBackend()
>>> stream = await net.connect("www.encode.io", 80)
>>> stream
<NetworkStream ["168.0.0.1:80"]>
""",
    },
    "N3 connect in a with block": {
        "sync": """
>>> net = httpx.NetworkBackend()
>>> with net.connect("dev.encode.io", 80) as stream:
>>>     ...
>>> stream
<NetworkStream ["168.0.0.1:80" CLOSED]>
""",
        "async": """
>>> net = ahttpx.NetworkBackend()
>>> async with await net.connect("dev.encode.io", 80) as stream:
>>>     ...
>>> stream
<NetworkStream ["168.0.0.1:80" CLOSED]>
""",
    },
    "N4 .close()": {
        "sync": """
>>> net = httpx.NetworkBackend()
>>> stream = net.connect("dev.encode.io", 80)
>>> try:
>>>     ...
>>> finally:
>>>     stream.close()
>>> stream
<NetworkStream ["168.0.0.1:80" CLOSED]>
""",
        "async": """
>>> net = ahttpx.NetworkBackend()
>>> stream = await net.connect("dev.encode.io", 80)
>>> try:
>>>     ...
>>> finally:
>>>     await stream.close()
>>> stream
<NetworkStream ["168.0.0.1:80" CLOSED]>
""",
    },
    "N5 timeout(duration)": {
        "sync": """
>>> with httpx.Client() as cli:
>>>     with httpx.timeout(3.0):
>>>         res = cli.get('https://www.example.com')
>>>         print(res)
""",
        "async": """
>>> async with ahttpx.Client() as cli:
>>>     async with ahttpx.timeout(3.0):
>>>         res = await cli.get('https://www.example.com')
>>>         print(res)
""",
    },
    "N6 .cancel()": {
        "sync": """
>>> with httpx.Client() as cli:
>>>     with httpx.timeout(3.0) as t:
>>>         with cli.stream('https://www.example.com') as r:
>>>             t.cancel()
>>>             print(">>>", res)
>>>             for chunk in r.stream:
>>>                 print("...", chunk)
""",
        "async": """
>>> async with ahttpx.Client() as cli:
>>>     async with ahttpx.timeout(3.0) as t:
>>>         async with await cli.stream('https://www.example.com') as r:
>>>             t.cancel()
>>>             print(">>>", res)
>>>             async for chunk in r.stream:
>>>                 print("...", chunk)
""",
    },
    "N7 Sending HTTP requests": {
        "sync": """
import httpx
import ssl
import truststore

net = httpx.NetworkBackend()
ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
req = b'\\r\\n'.join([
    b'GET / HTTP/1.1',
    b'Host: www.example.com',
    b'User-Agent: python/dev',
    b'Connection: close',
    b'',
    b'',
])

# Use a 10 second overall timeout for the entire request/response.
with httpx.timeout(10.0):
    # Use a 3 second timeout for the initial connection.
    with httpx.timeout(3.0) as t:
        # Open the connection & establish SSL.
        with net.connect("www.example.com", 443) as stream:
            stream.start_tls(ctx, hostname="www.example.com")
            t.cancel()
            # Send the request & read the response.
            stream.write(req)
            buffer = []
            while part := stream.read():
                buffer.append(part)
            resp = b''.join(buffer)
""",
        "async": """
import ahttpx
import ssl
import truststore

net = ahttpx.NetworkBackend()
ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
req = b'\\r\\n'.join([
    b'GET / HTTP/1.1',
    b'Host: www.example.com',
    b'User-Agent: python/dev',
    b'Connection: close',
    b'',
    b'',
])

# Use a 10 second overall timeout for the entire request/response.
async with ahttpx.timeout(10.0):
    # Use a 3 second timeout for the initial connection.
    async with ahttpx.timeout(3.0) as t:
        # Open the connection & establish SSL.
        async with await net.connect("www.example.com", 443) as stream:
            await stream.start_tls(ctx, hostname="www.example.com")
            t.cancel()
            # Send the request & read the response.
            await stream.write(req)
            buffer = []
            while part := await stream.read():
                buffer.append(part)
            resp = b''.join(buffer)
""",
    },
    "N8 An example backend": {
        "sync": """
class RecordingBackend(httpx.NetworkBackendInterface):
    def __init__(self):
        self._backend = NetworkBackend()

    def connect(self, host, port):
        # Delegate creating connections to the default
        # network backend, and return a wrapped stream.
        stream = self._backend.connect(host, port)
        return RecordingStream(stream)


class RecordingStream(httpx.NetworkStreamInterface):
    def __init__(self, stream):
        self._stream = stream

    def read(self, max_bytes: int = None):
        # Print all incoming data to the terminal.
        data = self._stream.read(max_bytes)
        lines = data.decode('ascii', errors='replace').splitlines()
        for line in lines:
            print("<<< ", line)
        return data

    def write(self, data):
        # Print all outgoing data to the terminal.
        lines = data.decode('ascii', errors='replace').splitlines()
        for line in lines:
            print(">>> ", line)
        self._stream.write(data)

    def start_tls(ctx, hostname):
        self._stream.start_tls(ctx, hostname)

    def get_extra_info(key):
        return self._stream.get_extra_info(key)

    def close():
        self._stream.close()
""",
        "async": """
class RecordingBackend(ahhtpx.NetworkBackendInterface):
    def __init__(self):
        self._backend = NetworkBackend()

    async def connect(self, host, port):
        # Delegate creating connections to the default
        # network backend, and return a wrapped stream.
        stream = await self._backend.connect(host, port)
        return RecordingStream(stream)


class RecordingStream(ahttpx.NetworkStreamInterface):
    def __init__(self, stream):
        self._stream = stream

    async def read(self, max_bytes: int = None):
        # Print all incoming data to the terminal.
        data = await self._stream.read(max_bytes)
        lines = data.decode('ascii', errors='replace').splitlines()
        for line in lines:
            print("<<< ", line)
        return data

    async def write(self, data):
        # Print all outgoing data to the terminal.
        lines = data.decode('ascii', errors='replace').splitlines()
        for line in lines:
            print(">>> ", line)
        await self._stream.write(data)

    async def start_tls(ctx, hostname):
        await self._stream.start_tls(ctx, hostname)

    def get_extra_info(key):
        return self._stream.get_extra_info(key)

    async def close():
        await self._stream.close()
""",
    },
    "N9 a client using the example backend": {
        "sync": """
>>> transport = httpx.ConnectionPool(backend=RecordingBackend())
>>> cli = httpx.Client(transport=transport)
>>> cli.get('https://www.example.com')
""",
        "async": """
>>> transport = ahttpx.ConnectionPool(backend=RecordingBackend())
>>> cli = ahttpx.Client(transport=transport)
>>> await cli.get('https://www.example.com')
""",
    },
}

# An example runs after the ones it builds on, in the same namespace, as on the page: N6 prints
# ``res`` from N5, and N9 uses N8's classes.
PREREQUISITES = {
    "N6 .cancel()": "N5 timeout(duration)",
    "N9 a client using the example backend": "N8 An example backend",
}

# httpcore's "Extensions" page (002). E1 is pseudo-code (two blocks of it): not Python, not run.
EXTENSIONS: dict[str, str] = {
    "E2 request extensions": """
r = httpcore.request(
    "GET",
    "https://www.example.com",
    extensions={"timeout": {"connect": 5.0}}
)
""",
    "E3 response extensions": """
r = httpcore.request("GET", "https://www.example.com")
print(r.extensions["http_version"])
# When using HTTP/1.1 on the client side, the server HTTP response
# could feasibly be one of b"HTTP/0.9", b"HTTP/1.0", or b"HTTP/1.1".
""",
    "E4 timeout": """
# Timeout if a connection takes more than 5 seconds to established, or if
# we are blocked waiting on the connection pool for more than 10 seconds.
r = httpcore.request(
    "GET",
    "https://www.example.com",
    extensions={"timeout": {"connect": 5.0, "pool": 10.0}}
)
""",
    "E5 trace": """
import httpcore

def log(event_name, info):
    print(event_name, info)

r = httpcore.request("GET", "https://www.example.com/", extensions={"trace": log})
""",
    "E6 sni_hostname": """
headers = {"Host": "www.encode.io"}
extensions = {"sni_hostname": "www.encode.io"}
response = httpcore.request(
    "GET",
    "https://185.199.108.153",
    headers=headers,
    extensions=extensions
)
""",
    "E7 target": """
extensions = {"target": b"www.encode.io:443"}
response = httpcore.request(
    "CONNECT",
    "http://your-tunnel-proxy.com",
    headers=headers,
    extensions=extensions
)
""",
    "E8 network_stream: CONNECT": """
# Formulate a CONNECT request...
#
# This will establish a connection to 127.0.0.1:8080, and then send the following...
#
# CONNECT http://www.example.com HTTP/1.1
url = "http://127.0.0.1:8080"
extensions = {"target: "http://www.example.com"}
with httpcore.stream("CONNECT", url, extensions=extensions) as response:
    network_stream = response.extensions["network_stream"]

    # Upgrade to an SSL stream...
    network_stream = network_stream.start_tls(
        ssl_context=httpcore.default_ssl_context(),
        hostname=b"www.example.com",
    )

    # Manually send an HTTP request over the network stream, and read the response...
    #
    # For a more complete example see the httpcore `TunnelHTTPConnection` implementation.
    network_stream.write(b"GET / HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n")
    data = network_stream.read()
    print(data)
""",
    "E9 network_stream: Upgrade": """
import httpcore
import wsproto
import os
import base64

url = "http://127.0.0.1:8000/"
headers = {
    b"Connection": b"Upgrade",
    b"Upgrade": b"WebSocket",
    b"Sec-WebSocket-Key": base64.b64encode(os.urandom(16)),
    b"Sec-WebSocket-Version": b"13"
}
with httpcore.stream("GET", url, headers=headers) as response:
    if response.status != 101:
        raise Exception("Failed to upgrade to websockets", response)

    # Get the raw network stream.
    network_steam = response.extensions["network_stream"]

    # Write a WebSocket text frame to the stream.
    ws_connection = wsproto.Connection(wsproto.ConnectionType.CLIENT)
    message = wsproto.events.TextMessage("hello, world!")
    outgoing_data = ws_connection.send(message)
    network_steam.write(outgoing_data)

    # Wait for a response.
    incoming_data = network_steam.read(max_bytes=4096)
    ws_connection.receive_data(incoming_data)
    for event in ws_connection.events():
        if isinstance(event, wsproto.events.TextMessage):
            print("Got data:", event.data)

    # Write a WebSocket close to the stream.
    message = wsproto.events.CloseConnection(code=1000)
    outgoing_data = ws_connection.send(message)
    network_steam.write(outgoing_data)
""",
    "E10 extra network information": """
response = httpcore.request("GET", "https://www.example.com")
network_stream = response.extensions["network_stream"]

client_addr = network_stream.get_extra_info("client_addr")
server_addr = network_stream.get_extra_info("server_addr")
print("Client address", client_addr)
print("Server address", server_addr)
""",
    "E11 ssl_object": """
with httpcore.stream("GET", "https://www.example.com") as response:
    network_stream = response.extensions["network_stream"]

    ssl_object = network_stream.get_extra_info("ssl_object")
    print("TLS version", ssl_object.version())
""",
}

# h11's "Getting started" page (003): its ``.. ipython:: python`` blocks, in order.
H11_BLOCKS: list[tuple[str, str]] = [
    (
        "H1 raw TLS socket",
        """
import ssl, socket

ctx = ssl.create_default_context()
sock = ctx.wrap_socket(socket.create_connection(("httpbin.org", 443)),
                       server_hostname="httpbin.org")

# Send request
sock.sendall(b"GET /xml HTTP/1.1\\r\\nhost: httpbin.org\\r\\n\\r\\n")
# Read response
response_data = sock.recv(1024)
# Let's see what we got!
print(response_data)
""",
    ),
    ("H2 decode", 'print(response_data.decode("ascii"))\n'),
    (
        "H3 h11.Connection",
        """
import ssl, socket
import h11

ctx = ssl.create_default_context()
sock = ctx.wrap_socket(socket.create_connection(("httpbin.org", 443)),
                       server_hostname="httpbin.org")

conn = h11.Connection(our_role=h11.CLIENT)
""",
    ),
    (
        "H4 send a Request",
        """
request = h11.Request(method="GET",
                      target="/xml",
                      headers=[("Host", "httpbin.org")])
bytes_to_send = conn.send(request)
sock.sendall(bytes_to_send)
bytes_to_send
end_of_message_bytes_to_send = conn.send(h11.EndOfMessage())
sock.sendall(end_of_message_bytes_to_send)
end_of_message_bytes_to_send
""",
    ),
    (
        "H5 receive events",
        """
bytes_received = sock.recv(1024)
conn.receive_data(bytes_received)
conn.next_event()
conn.next_event()
conn.next_event()
""",
    ),
    (
        "H6 trickle",
        """
import ssl, socket
import h11

ctx = ssl.create_default_context()
sock = ctx.wrap_socket(socket.create_connection(("httpbin.org", 443)),
                       server_hostname="httpbin.org")

conn = h11.Connection(our_role=h11.CLIENT)
request = h11.Request(method="GET",
                      target="/xml",
                      headers=[("Host", "httpbin.org")])
sock.sendall(conn.send(request))
bytes_received = sock.recv(200)
conn.receive_data(bytes_received)
conn.next_event()
bytes_received = sock.recv(200)
conn.receive_data(bytes_received)
conn.next_event()
""",
    ),
    (
        "H7 a basic client object",
        """
client = MyHttpClient("httpbin.org", 443)

client.send(h11.Request(method="GET", target="/xml",
                        headers=[("Host", "httpbin.org")]))
client.send(h11.EndOfMessage())
client.next_event()
client.next_event()
client.next_event()
client.next_event()
client.next_event()
""",
    ),
    (
        "H8 okexcept: nothing more to read",
        """
client.sock.settimeout(2)
client.next_event()
""",
    ),
    (
        "H9 keep-alive",
        """
client.conn.our_state, client.conn.their_state
client.conn.start_next_cycle()
client.conn.our_state, client.conn.their_state

client.send(h11.Request(method="GET", target="/get",
                        headers=[("Host", "httpbin.org")]))
client.send(h11.EndOfMessage())
client.next_event()
""",
    ),
    (
        "H10 what's next: a POST",
        """
client.send(h11.Request(method="POST", target="/post",
                        headers=[("Host", "httpbin.org"),
                                 ("Content-Length", "10")]))
client.send(h11.Data(data=b"1234567890"))
client.send(h11.EndOfMessage())
""",
    ),
]

H7_CLIENT = 'client = MyHttpClient("httpbin.org", 443)\n'  # H7's first line

# The page shows ``MyHttpClient`` by ``.. literalinclude:: _examples/myclient.py``: its text is
# not part of the seed, so this is h11's example file (as shipped with h11 0.14), with the
# seed's reading of ``h11`` (``httpwire.http11``) and of ``ssl.create_default_context()``.
MYCLIENT = """
import socket, ssl
import h11

class MyHttpClient:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        if port == 443:
            ctx = ssl.create_default_context()
            self.sock = ctx.wrap_socket(self.sock, server_hostname=host)
        self.conn = h11.Connection(our_role=h11.CLIENT)

    def send(self, *events):
        for event in events:
            data = self.conn.send(event)
            if data is None:
                # event was a ConnectionClosed(), meaning that we won't be
                # sending any more data:
                self.sock.shutdown(socket.SHUT_WR)
            else:
                self.sock.sendall(data)

    # max_bytes_per_recv intentionally set low for pedagogical purposes
    def next_event(self, max_bytes_per_recv=200):
        while True:
            # If we already have a complete event buffered internally, just
            # return that. Otherwise, read some data, add it to the internal
            # buffer, and then try again.
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(max_bytes_per_recv))
                continue
            return event
"""

# -- how the texts are read ------------------------------------------------------------------------

#: (seed text, replacement), applied in this order to every example (``{...}`` are filled in
#: with the test servers' ports). Names first: the seed's ``httpx``/``ahttpx`` are
#: ``httpwire``/``ahttpwire`` (issue 9), httpcore's and h11's pages are read the same way.
SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"\bahttpx\b", "ahttpwire"),
    (r"\bhttpx\b", "httpwire"),
    (r"\bhttpcore\b", "httpwire"),
    (r"^import h11$", "from httpwire import http11 as h11"),
    # Hosts: the public sites are the local test servers.
    (r'"(www|dev)\.encode\.io", 80', '"127.0.0.1", {http_port}'),
    (r'"www\.example\.com", 443', '"127.0.0.1", {https_port}'),
    (r"https://www\.example\.com", "https://127.0.0.1:{https_port}"),
    (r'"https://185\.199\.108\.153"', '"https://127.0.0.1:{https_port}"'),
    (r'b"www\.encode\.io:443"', 'b"127.0.0.1:{https_port}"'),
    (r"www\.encode\.io", "localhost"),  # E6: Host and SNI name (the certificate has localhost)
    (r"http://your-tunnel-proxy\.com", "{proxy_url}"),
    (r'"http://127\.0\.0\.1:8080"', '"{proxy_url}"'),
    (r'"http://127\.0\.0\.1:8000/"', '"{ws_url}/"'),
    (r"www\.example\.com", "127.0.0.1"),
    # h11's page: httpbin.org. The trickle and client examples read 200 bytes at a time; the
    # path gives a body that ends exactly on the reads the page shows (see _h11_body_size).
    (r'MyHttpClient\("httpbin\.org", 443\)', 'MyHttpClient("127.0.0.1", {http_port})'),
    (r'\("httpbin\.org", 443\)', '("127.0.0.1", {https_port})'),
    (r"httpbin\.org", "127.0.0.1"),
    (r'target="/xml"', 'target="/bytes/{h11_body}"'),
    (r"GET /xml ", "GET /bytes/{h11_body} "),
    (r'target="/get"', 'target="/"'),
    (r'target="/post"', 'target="/echo"'),
    # The system's trust store does not know the test CA: contexts built from it load it too.
    (
        r"truststore\.SSLContext\(ssl\.PROTOCOL_TLS_CLIENT\)",
        "ssl.create_default_context(cafile=CA_FILE)",
    ),
    (r"ssl\.create_default_context\(\)", "ssl.create_default_context(cafile=CA_FILE)"),
    (r"httpwire\.default_ssl_context\(\)", "ssl.create_default_context(cafile=CA_FILE)"),
]

#: Slips in the seed texts that no implementation can run as printed; (text, fix, why).
SEED_TYPOS: list[tuple[str, str, str]] = [
    ("ahhtpx.", "ahttpwire.", "N8 async: 'ahhtpx' for 'ahttpx'"),
    ("def start_tls(ctx, hostname):", "def start_tls(self, ctx, hostname):", "N8: no self"),
    ("def get_extra_info(key):", "def get_extra_info(self, key):", "N8: no self"),
    ("def close():", "def close(self):", "N8: no self"),
    ('{"target: "', '{"target": "', "E8: unbalanced quote (a SyntaxError)"),
    # E8's CONNECT target must be authority-form (RFC 9110 section 9.3.6); a proxy refuses a URL.
    ('"target": "http://127.0.0.1"', '"target": "127.0.0.1:{https_port}"', "E8: CONNECT target"),
    # E9: httpcore's Response.status is httpx's (and httpwire's) status_code.
    ("response.status != 101", "response.status_code != 101", "E9: httpcore's attribute name"),
]

#: Applied to the seed's expected output lines: the servers' addresses, and the runtime's name.
OUTPUT_SUBSTITUTIONS: list[tuple[str, str]] = [(r"168\.0\.0\.1:80\b", "127.0.0.1:{http_port}")]

_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with each ``{name}`` of ``values`` filled in (others left as they are)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template)


def rewrite(text: str, values: dict[str, Any]) -> str:
    """The seed text as run: :data:`SUBSTITUTIONS`, then :data:`SEED_TYPOS`."""
    for pattern, replacement in SUBSTITUTIONS:
        text = re.sub(
            pattern, fill(replacement, values).replace("\\", "\\\\"), text, flags=re.MULTILINE
        )
    for typo, fix, _why in SEED_TYPOS:
        text = text.replace(typo, fill(fix, values))
    return text


def split_prompts(text: str) -> tuple[str, dict[int, str]]:
    """Source and expected outputs of an example. With ``>>>`` prompts, a line without one is
    the expected ``repr()`` of the statement ending on the line above (keyed by that line
    number); without prompts the text is a script."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    if not any(line.startswith(">>>") for line in lines):
        return "\n".join(lines) + "\n", {}
    source: list[str] = []
    outputs: dict[int, str] = {}
    for line in lines:
        if line.startswith(">>>"):
            source.append(line[4:] if line.startswith(">>> ") else line[3:])
        else:
            outputs[len(source)] = line
    return "\n".join(source) + "\n", outputs


async def execute(
    source: str,
    namespace: dict[str, Any],
    outputs: dict[int, str] | None = None,
    expect: Callable[[str], str] = lambda line: line,
    okexcept: bool = False,
) -> list[Any]:
    """Run ``source`` statement by statement in ``namespace`` (top-level ``await`` allowed, as
    in an async REPL), checking each bare expression that has an expected output; returns the
    values of the bare expressions that are not None (what a REPL displays; an exception's
    instance under ``okexcept``, as IPython's ``:okexcept:`` shows it)."""
    outputs = outputs or {}
    tree = compile(source, "<seed>", "exec", ast.PyCF_ONLY_AST | _FLAGS)
    values: list[Any] = []
    for stmt in tree.body:
        try:
            if isinstance(stmt, ast.Expr):
                code = compile(ast.Expression(stmt.value), "<seed>", "eval", _FLAGS)
                value = eval(code, namespace)  # noqa: S307 - the seed's own example code
                if code.co_flags & inspect.CO_COROUTINE:
                    value = await value
                if value is not None:  # what a REPL displays: not None
                    values.append(value)
                if stmt.end_lineno in outputs:
                    assert repr(value) == expect(outputs[stmt.end_lineno])
            else:
                code = compile(ast.Module([stmt], []), "<seed>", "exec", _FLAGS)
                result = eval(code, namespace)  # noqa: S307
                if code.co_flags & inspect.CO_COROUTINE:
                    await result
        except Exception as exc:
            if not okexcept:
                raise
            values.append(exc)
    return values


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (a sync example)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("a sync example awaited something")


async def close_leftovers(namespace: dict[str, Any]) -> None:
    """Close what an example leaves open (the page's REPL session would keep it)."""
    for value in list(namespace.values()):
        if isinstance(
            value, httpwire.NetworkStreamInterface | httpwire.Client | httpwire.ConnectionPool
        ):
            value.close()
        elif isinstance(
            value, ahttpwire.NetworkStreamInterface | ahttpwire.Client | ahttpwire.ConnectionPool
        ):
            await value.aclose()
        elif isinstance(value, ssl.SSLSocket | socket.socket):
            value.close()
        elif hasattr(value, "sock") and isinstance(value.sock, socket.socket):
            value.sock.close()


@pytest.fixture
def seed_env(
    http_server: UvicornServer,
    https_server: UvicornServer,
    ca: trustme.CA,
    ca_cert_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Any]]:
    """The values the substitutions fill in; the default TLS context trusts the test CA."""
    context = ssl.create_default_context(cafile=ca_cert_path)
    context.set_alpn_protocols(["http/1.1"])
    monkeypatch.setitem(_ssl._cache, (False, True), context)
    # httpwire.request() & co. share pools between calls: this test gets fresh ones (so E5's
    # trace starts with a new connection, as on the page), closed at its end.
    pools: dict[Any, Any] = {}
    monkeypatch.setattr(_api_clients, "_pools", pools)
    try:
        yield {
            "http_port": http_server.port,
            "https_port": https_server.port,
            "CA_FILE": ca_cert_path,
        }
    finally:
        for pool in pools.values():
            pool.close()


# -- the networking page (000/001) -----------------------------------------------------------------

FLAVOURS = ["sync", "asyncio", "trio"]


def _checks(name: str, namespace: dict[str, Any], printed: str, port: int) -> None:
    """What each networking example must leave behind, beyond its shown outputs."""
    if name.startswith("N1"):
        assert isinstance(
            namespace["net"], httpwire.NetworkBackendInterface | ahttpwire.NetworkBackendInterface
        )
    elif name.startswith(("N2", "N3", "N4")):
        assert f'"127.0.0.1:{port}"' in repr(namespace["stream"])
    elif name.startswith("N5"):
        assert namespace["res"].status_code == 200
        assert printed == "<Response [200 OK]>\n"
    elif name.startswith("N6"):
        assert namespace["t"].cancelled
        assert printed.splitlines() == [
            "<Response [200 OK]>",
            ">>> <Response [200 OK]>",
            f"... {HELLO!r}",
        ]
    elif name.startswith("N7"):
        resp = namespace["resp"]
        assert resp.startswith(b"HTTP/1.1 200 OK\r\n") and resp.endswith(HELLO)
        assert repr(namespace["stream"]).endswith(" TLS CLOSED]>")
    elif name.startswith("N8"):
        assert {"RecordingBackend", "RecordingStream"} <= namespace.keys()
    elif name.startswith("N9"):
        lines = printed.splitlines()
        assert ">>>  GET / HTTP/1.1" in lines, printed
        assert "<<<  HTTP/1.1 200 OK" in lines, printed
        assert f"<<<  {HELLO.decode().strip()}" in lines, printed


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("name", list(NETWORKING))
def test_networking_page_example(
    name: str, flavour: str, seed_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    module: Any = httpwire if flavour == "sync" else ahttpwire
    values = seed_env
    namespace: dict[str, Any] = {
        "httpwire": httpwire,
        "ahttpwire": ahttpwire,
        "NetworkBackend": module.NetworkBackend,  # N8 uses it unqualified
        "CA_FILE": values["CA_FILE"],
    }

    def expect(line: str) -> str:
        for pattern, replacement in OUTPUT_SUBSTITUTIONS:
            line = re.sub(pattern, fill(replacement, values), line)
        if flavour == "trio":
            line = line.replace("<NetworkBackend [asyncio]>", "<NetworkBackend [trio]>")
        return line

    async def main() -> None:
        try:
            for step in (PREREQUISITES.get(name), name):
                if step is None:
                    continue
                text = NETWORKING[step]["sync" if flavour == "sync" else "async"]
                source, outputs = split_prompts(rewrite(text, values))
                await execute(source, namespace, outputs, expect)
        finally:
            await close_leftovers(namespace)

    if flavour == "sync":
        run_sync(main())
    elif flavour == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)
    _checks(name, namespace, capsys.readouterr().out, values["http_port"])


@pytest.mark.parametrize("prefix", ["000", "002", "003"])
def test_the_example_texts_are_the_seeds(prefix: str) -> None:
    """Every line of the examples above is in the seed document it comes from (000_* is the
    rendered networking page, with its outputs; 001_* is the same page as markdown)."""
    seeds = sorted(SEED_DIR.glob(f"{prefix}_*.txt"))
    assert seeds, f"the seed texts are missing: expected {SEED_DIR}/{prefix}_*.txt"
    page = seeds[0].read_text()
    texts = {
        "000": [text for flavours in NETWORKING.values() for text in flavours.values()],
        "002": list(EXTENSIONS.values()),
        "003": [text for _name, text in H11_BLOCKS],
    }[prefix]
    for text in texts:
        for line in textwrap.dedent(text).strip("\n").splitlines():
            if line.strip():
                assert line.strip() in page, line


# -- httpcore's extensions page (002) -------------------------------------------------------------


def _extension_checks(name: str, ns: dict[str, Any], printed: str, values: dict[str, Any]) -> None:
    port = values["https_port"]
    if name.startswith(("E2", "E3", "E4", "E5", "E6")):
        assert ns["r" if "r" in ns else "response"].status_code == 200
    if name.startswith("E3"):
        assert printed == "b'HTTP/1.1'\n"
    elif name.startswith("E5"):
        events = [line.split(" ", 1)[0] for line in printed.splitlines()]
        for event in (
            "connection.connect_tcp.started",
            "connection.connect_tcp.complete",
            "connection.start_tls.started",
            "connection.start_tls.complete",
            "http11.send_request_headers.started",
            "http11.receive_response_headers.complete",
            "http11.response_closed.complete",
        ):
            assert event in events, (event, events)
    elif name.startswith("E6"):
        assert ns["response"].request.headers["Host"] == "localhost"
    elif name.startswith("E7"):
        assert ns["response"].status_code == 200
    elif name.startswith("E8"):
        assert ns["data"].startswith(b"HTTP/1.1 200 OK\r\n"), ns["data"]
        assert repr(ns["network_stream"]).startswith("<TLS in ") or " TLS" in repr(
            ns["network_stream"]
        )
    elif name.startswith("E9"):
        assert printed == "Got data: hello, world!\n"
    elif name.startswith("E10"):
        assert f"Server address ('127.0.0.1', {port})" in printed.splitlines()
        assert printed.startswith("Client address ('127.0.0.1', ")
    elif name.startswith("E11"):
        assert re.fullmatch(r"TLS version TLSv1\.[23]\n", printed), printed


@pytest.mark.parametrize("name", list(EXTENSIONS))
def test_extensions_page_example(
    name: str,
    seed_env: dict[str, Any],
    proxy: Tinyproxy,  # noqa: F811 - test_proxy_tunnel's tinyproxy fixture
    ws_server: EchoServer,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    values = {**seed_env, "proxy_url": proxy.url, "ws_url": ws_server.url}
    namespace: dict[str, Any] = {"httpwire": httpwire, "ssl": ssl, "CA_FILE": values["CA_FILE"]}
    steps = ["E6 sni_hostname", name] if name.startswith("E7") else [name]  # E7 uses E6's headers

    async def main() -> None:
        try:
            for step in steps:
                await execute(rewrite(EXTENSIONS[step], values), namespace)
                if step != name:
                    capsys.readouterr()
        finally:
            await close_leftovers(namespace)

    run_sync(main())
    _extension_checks(name, namespace, capsys.readouterr().out, values)


# -- h11's getting-started page (003) -------------------------------------------------------------


def _h11_body_size(port: int) -> int:
    """A body length for which, with every byte already arrived, 200-byte reads give what the
    page shows: Response, Data, Data, Data, then EndOfMessage on the fifth ``next_event()``.
    The first read holds the head and ``200 - head`` body bytes, the next two 200 each."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"HEAD /bytes/500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += sock.recv(1)
    return (200 - len(head)) + 200 + 200


def test_h11_page_session(seed_env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    values = {**seed_env, "h11_body": _h11_body_size(seed_env["http_port"])}
    namespace: dict[str, Any] = {"CA_FILE": values["CA_FILE"]}
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)  # a read the page did not expect fails instead of hanging
    try:
        results: dict[str, list[Any]] = {}

        async def main() -> None:
            try:
                await execute(rewrite(MYCLIENT, values), namespace)
                for name, text in H11_BLOCKS:
                    if name.startswith("H10"):
                        # "What's next" suggests adapting the examples to a POST: it is sent as
                        # the first request of a new client (the old one is mid-response).
                        namespace["client"].sock.close()
                        await execute(rewrite(H7_CLIENT, values), namespace)
                    results[name] = await execute(
                        rewrite(text, values), namespace, okexcept=name.startswith("H8")
                    )
                    results[name + " printed"] = [capsys.readouterr().out]
                # H10 sends a POST and stops; read its response to check it was well formed.
                results["H10 response"] = [namespace["client"].next_event()]
            finally:
                await close_leftovers(namespace)

        run_sync(main())
    finally:
        socket.setdefaulttimeout(previous)

    body = values["h11_body"]
    printed = results["H1 raw TLS socket printed"][0]
    assert printed.startswith("b'HTTP/1.1 200 OK\\r\\n"), printed
    assert results["H2 decode printed"][0].startswith("HTTP/1.1 200 OK\r\n")
    assert results["H4 send a Request"] == [
        f"GET /bytes/{body} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        b"",
    ]
    response, *rest = results["H5 receive events"]
    assert isinstance(response, h11.Response) and response.status_code == 200
    assert all(
        isinstance(e, h11.Data) or e in (h11.NEED_DATA,) or isinstance(e, h11.EndOfMessage)
        for e in rest
    )
    trickle = results["H6 trickle"]
    assert all(e is h11.NEED_DATA or isinstance(e, h11.Response | h11.Data) for e in trickle)
    assert any(isinstance(e, h11.Response) for e in trickle)
    events = results["H7 a basic client object"]
    assert isinstance(events[0], h11.Response) and events[0].status_code == 200
    assert [type(e) for e in events[1:]] == [h11.Data, h11.Data, h11.Data, h11.EndOfMessage], events
    assert sum(len(e.data) for e in events[1:4]) == body
    (timed_out,) = results["H8 okexcept: nothing more to read"]
    assert isinstance(timed_out, TimeoutError), timed_out
    states = results["H9 keep-alive"]
    assert states[0] == (h11.DONE, h11.DONE)
    assert states[1] == (h11.IDLE, h11.IDLE)
    assert isinstance(states[2], h11.Response) and states[2].status_code == 200
    (post,) = results["H10 response"]
    assert isinstance(post, h11.Response) and post.status_code == 200
