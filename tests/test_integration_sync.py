"""The sync flavour (``httpwire``) against real servers: uvicorn over HTTP and HTTPS, plus the
fault-injection servers of ``tests/servers.py``. ``test_integration_async.py`` mirrors this file
for ``ahttpwire``.

Keep-alive reuse is counted on the server side: ``/client-port`` answers the client's source
port, so the same port means the same TCP connection.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from app import COMPRESSIBLE, HELLO, JSON_DOC, STALL_BODY, pattern
from servers import FaultServer, UvicornServer

import httpwire

SIZES = [0, 1, 64 * 1024, 1 << 20, 16 << 20]
SIZE_IDS = ["0B", "1B", "64KiB", "1MiB", "16MiB"]
# Small enough that a timeout test ends quickly; the stalls are 10x longer and end by themselves.
SHORT = 0.3


def assert_same_bytes(got: bytes, want: bytes) -> None:
    """Compare bodies without asking pytest to diff megabytes: report length and first mismatch."""
    assert len(got) == len(want), f"got {len(got)} bytes, want {len(want)}"
    if got != want:
        index = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise AssertionError(f"bodies differ first at byte {index}")


def upload_body(n: int) -> bytes:
    """A request body unlike the response pattern, so an echo cannot pass by accident."""
    return pattern(n + 7)[7:]


def pieces(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def timeouts(**limits: float) -> dict[str, float]:
    """A timeout dict with generous defaults and the given limits lowered."""
    config = {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    config.update(limits)
    return config


# --- bodies in both directions, HTTP and HTTPS ------------------------------------------------


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_get_body_with_content_length(live_server: UvicornServer, n: int) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.get(f"{live_server.url}/bytes/{n}")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(n)
    assert_same_bytes(response.content, pattern(n))


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_get_chunked_body(live_server: UvicornServer, n: int) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.get(f"{live_server.url}/stream/{n}?chunk=65536")
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert_same_bytes(response.content, pattern(n))


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_post_body_with_content_length(live_server: UvicornServer, n: int) -> None:
    data = upload_body(n)
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.post(f"{live_server.url}/echo", content=data)
    assert response.status_code == 200
    assert response.headers["x-received-length"] == str(n)
    assert response.headers["x-request-content-length"] == str(n)
    assert response.headers["x-request-transfer-encoding"] == ""
    assert_same_bytes(response.content, data)


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_post_chunked_body_from_iterator(live_server: UvicornServer, n: int) -> None:
    data = upload_body(n)
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.post(f"{live_server.url}/echo", content=pieces(data))
    assert response.status_code == 200
    assert response.headers["x-request-transfer-encoding"] == "chunked"
    assert response.headers["x-request-content-length"] == ""
    assert response.headers["x-received-length"] == str(n)
    assert_same_bytes(response.content, data)


def test_put_body_and_method_reach_the_server(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.put(f"{live_server.url}/echo", content=b"put body")
    assert response.headers["x-request-method"] == "PUT"
    assert response.content == b"put body"


def test_json_request_and_response(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        sent = client.post(f"{live_server.url}/anything", json={"a": [1, 2], "b": "\u00e9"})
        got = client.get(f"{live_server.url}/json")
    info = sent.json()
    assert info["method"] == "POST"
    assert info["headers"]["content-type"] == "application/json"
    assert json.loads(info["body"]) == {"a": [1, 2], "b": "\u00e9"}
    assert got.json() == JSON_DOC


def test_default_headers(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        headers = client.get(f"{http_server.url}/echo-headers").json()
    assert headers["host"] == f"127.0.0.1:{http_server.port}"
    assert headers["user-agent"].startswith("python-httpwire/")
    assert headers["accept"] == "*/*"
    codings = {c.strip() for c in headers["accept-encoding"].split(",")}
    # brotli and zstandard are installed by the test command, so their decoders are offered.
    assert {"gzip", "deflate", "br", "zstd"} <= codings


def test_module_level_get(http_server: UvicornServer) -> None:
    response = httpwire.get(f"{http_server.url}/")
    assert response.status_code == 200
    assert response.content == HELLO
    assert response.http_version == "HTTP/1.1"
    assert response.reason_phrase == "OK"


def test_https_is_verified_by_default(https_server: UvicornServer) -> None:
    # The trustme CA is in no system store: the default (verify=True) must refuse the server.
    with httpwire.Client() as client, pytest.raises(httpwire.ConnectError):
        client.get(f"{https_server.url}/")


def test_https_verify_with_ca_bundle_path(https_server: UvicornServer, ca_cert_path: str) -> None:
    with httpwire.Client(verify=ca_cert_path) as client:
        response = client.get(f"{https_server.url}/")
    assert response.content == HELLO


def test_https_verify_false(https_server: UvicornServer) -> None:
    with httpwire.Client(verify=False) as client:
        response = client.get(f"{https_server.url}/")
    assert response.content == HELLO


# --- status codes, HEAD, cookies ----------------------------------------------------------------


@pytest.mark.parametrize("code", [201, 204, 404, 500])
def test_status_codes(http_server: UvicornServer, code: int) -> None:
    with httpwire.Client() as client:
        response = client.get(f"{http_server.url}/status/{code}")
    assert response.status_code == code
    assert response.content == (b"" if code == 204 else b"status %d" % code)
    if code >= 400:
        with pytest.raises(httpwire.HTTPStatusError):
            response.raise_for_status()


def test_head_has_no_body_and_keeps_the_connection(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        before = client.get(f"{live_server.url}/client-port").text
        head = client.head(f"{live_server.url}/bytes/1000")
        after = client.get(f"{live_server.url}/client-port").text
    assert head.status_code == 200
    assert head.headers["content-length"] == "1000"
    assert head.content == b""
    assert before == after


def test_cookies_persist_on_the_client(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        client.get(f"{http_server.url}/set-cookie?session=abc&theme=dark")
        cookies = client.get(f"{http_server.url}/cookies").json()
    assert cookies == {"session": "abc", "theme": "dark"}


# --- keep-alive ---------------------------------------------------------------------------------


def test_keepalive_ten_requests_one_connection(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        ports = [client.get(f"{live_server.url}/client-port").text for _ in range(10)]
    assert len(set(ports)) == 1, ports


def test_keepalive_survives_bodies_of_every_framing(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        url = live_server.url
        first = client.get(f"{url}/client-port").text
        client.get(f"{url}/bytes/{1 << 20}")
        client.get(f"{url}/stream/100000?chunk=777")
        client.post(f"{url}/echo", content=pieces(upload_body(100000), 1000))
        client.get(f"{url}/status/204")
        last = client.get(f"{url}/client-port").text
    assert first == last


def test_connection_close_from_server_opens_a_new_connection(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        first = client.get(f"{live_server.url}/client-port").text
        closing = client.get(f"{live_server.url}/close")
        second = client.get(f"{live_server.url}/client-port").text
    assert closing.status_code == 200
    assert closing.headers["connection"] == "close"
    assert first != second


def test_server_closing_idle_keepalive_connection(fault_server: FaultServer) -> None:
    with httpwire.Client() as client:
        first = client.get(f"{fault_server.url}/ok-then-close")
        # The server has closed the pooled connection before the next request is made.
        fault_server.wait_for_server_closes(1)
        second = client.get(f"{fault_server.url}/ok")
    assert first.content == b"ok"
    assert second.content == b"ok"
    assert fault_server.accepted == 2


def test_threads_share_one_client(http_server: UvicornServer) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(client: httpwire.Client) -> None:
        try:
            for _ in range(10):
                text = client.get(f"{http_server.url}/client-port").text
                with lock:
                    results.append(text)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    with httpwire.Client() as client:
        threads = [threading.Thread(target=worker, args=(client,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == 40
    assert len(set(results)) <= 4


# --- redirects ----------------------------------------------------------------------------------


def test_redirects_followed(http_server: UvicornServer) -> None:
    with httpwire.Client(follow_redirects=True) as client:
        response = client.get(f"{http_server.url}/redirect/3")
    assert response.status_code == 200
    assert response.text == "redirect done"
    assert str(response.url) == f"{http_server.url}/redirect/0"


def test_redirects_with_absolute_locations(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify, follow_redirects=True) as client:
        response = client.get(f"{live_server.url}/redirect/2?absolute=1")
    assert response.status_code == 200
    assert response.text == "redirect done"


def test_redirects_not_followed_by_default(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        response = client.get(f"{http_server.url}/redirect/2")
    assert response.status_code == 302
    assert response.is_redirect
    assert response.headers["location"] == "/redirect/1"


def test_redirect_follow_per_request(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        response = client.get(f"{http_server.url}/redirect/1", follow_redirects=True)
    assert response.text == "redirect done"


def test_too_many_redirects(http_server: UvicornServer) -> None:
    with httpwire.Client(follow_redirects=True, max_redirects=3) as client:
        with pytest.raises(httpwire.TooManyRedirects):
            client.get(f"{http_server.url}/redirect/5")
        # Exactly at the limit is fine.
        assert client.get(f"{http_server.url}/redirect/3").status_code == 200


def test_303_turns_post_into_get_without_body(http_server: UvicornServer) -> None:
    query = urlencode({"url": "/anything", "status": "303"})
    with httpwire.Client(follow_redirects=True) as client:
        response = client.post(f"{http_server.url}/redirect-to?{query}", content=b"payload")
    info = response.json()
    assert info["method"] == "GET"
    assert info["body_length"] == 0
    assert "transfer-encoding" not in info["headers"]


def test_307_keeps_method_and_body(http_server: UvicornServer) -> None:
    query = urlencode({"url": "/echo", "status": "307"})
    with httpwire.Client(follow_redirects=True) as client:
        response = client.post(f"{http_server.url}/redirect-to?{query}", content=b"payload")
    assert response.headers["x-request-method"] == "POST"
    assert response.content == b"payload"


# --- content decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "coding"),
    [
        ("/gzip", "gzip"),
        ("/deflate", "deflate"),
        ("/deflate?raw=1", "deflate"),
        ("/brotli", "br"),
        ("/zstd", "zstd"),
    ],
)
def test_content_decoding(live_server: UvicornServer, path: str, coding: str) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        response = client.get(f"{live_server.url}{path}")
    assert response.headers["content-encoding"] == coding
    assert_same_bytes(response.content, COMPRESSIBLE)


def test_iter_raw_gives_the_encoded_bytes(http_server: UvicornServer) -> None:
    with httpwire.Client() as client, client.stream("GET", f"{http_server.url}/gzip") as response:
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == COMPRESSIBLE


# --- streaming ----------------------------------------------------------------------------------


def test_stream_iter_bytes(live_server: UvicornServer) -> None:
    n = 1 << 20
    with httpwire.Client(verify=live_server.verify) as client:
        with client.stream("GET", f"{live_server.url}/stream/{n}?chunk=1000") as response:
            assert response.status_code == 200
            chunks = list(response.iter_bytes())
    assert all(chunks), "iter_bytes yielded an empty chunk"
    assert_same_bytes(b"".join(chunks), pattern(n))


def test_stream_read_to_end_releases_the_connection(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        before = client.get(f"{live_server.url}/client-port").text
        with client.stream("GET", f"{live_server.url}/bytes/{1 << 20}") as response:
            total = sum(len(chunk) for chunk in response.iter_bytes())
        after = client.get(f"{live_server.url}/client-port").text
    assert total == 1 << 20
    assert before == after


def test_stream_closed_early_discards_the_connection(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client:
        before = client.get(f"{live_server.url}/client-port").text
        with client.stream("GET", f"{live_server.url}/bytes/{16 << 20}") as response:
            first = next(iter(response.iter_bytes()))
        after = client.get(f"{live_server.url}/client-port").text
    assert first
    # The rest of the 16 MiB was never read, so that connection cannot carry another request.
    assert before != after


def test_stream_read_then_content(http_server: UvicornServer) -> None:
    with httpwire.Client() as client, client.stream("GET", f"{http_server.url}/json") as response:
        response.read()
        assert response.json() == JSON_DOC


def test_send_with_stream_true(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        request = client.build_request("GET", f"{http_server.url}/bytes/5000")
        response = client.send(request, stream=True)
        try:
            body = b"".join(response.iter_bytes())
        finally:
            response.close()
    assert_same_bytes(body, pattern(5000))


# --- timeouts -----------------------------------------------------------------------------------


def test_read_timeout_before_the_response_head(http_server: UvicornServer) -> None:
    with httpwire.Client(timeout=timeouts(read=SHORT)) as client:
        with pytest.raises(httpwire.ReadTimeout):
            client.get(f"{http_server.url}/slow-head?seconds=10")
        # The client is still usable after the timeout.
        assert client.get(f"{http_server.url}/").content == HELLO


def test_read_timeout_in_the_body(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify, timeout=timeouts(read=SHORT)) as client:
        with pytest.raises(httpwire.ReadTimeout):
            client.get(f"{live_server.url}/stall?seconds=10")
        assert client.get(f"{live_server.url}/").content == HELLO


def test_stall_shorter_than_read_timeout_completes(http_server: UvicornServer) -> None:
    with httpwire.Client(timeout=timeouts(read=10.0)) as client:
        response = client.get(f"{http_server.url}/stall?seconds=0.2")
    assert response.content == STALL_BODY


def test_read_timeout_against_a_server_that_never_answers(fault_server: FaultServer) -> None:
    with httpwire.Client(timeout=timeouts(read=SHORT)) as client:
        with pytest.raises(httpwire.ReadTimeout):
            client.get(f"{fault_server.url}/silent")


def test_timeout_exceptions_are_builtin_timeout_errors(fault_server: FaultServer) -> None:
    with httpwire.Client(timeout=timeouts(read=SHORT)) as client:
        with pytest.raises(TimeoutError):
            client.get(f"{fault_server.url}/silent")


def test_connect_timeout(full_backlog_url: str) -> None:
    with httpwire.Client(timeout=timeouts(connect=SHORT)) as client:
        with pytest.raises(httpwire.ConnectTimeout):
            client.get(f"{full_backlog_url}/")


def test_connect_refused_is_connect_error(refused_url: str) -> None:
    with httpwire.Client() as client, pytest.raises(httpwire.ConnectError):
        client.get(f"{refused_url}/")


def test_pool_timeout_with_one_connection_held(http_server: UvicornServer) -> None:
    pool = httpwire.ConnectionPool(max_connections=1)
    with httpwire.Client(transport=pool, timeout=timeouts(pool=SHORT)) as client:
        with client.stream("GET", f"{http_server.url}/stall?seconds=10") as held:
            assert held.status_code == 200
            with pytest.raises(httpwire.PoolTimeout):
                client.get(f"{http_server.url}/")
        # Closing the held stream frees the only connection slot.
        assert client.get(f"{http_server.url}/").content == HELLO


def test_pool_timeout_on_the_pool_itself(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", f"{http_server.url}/stall?seconds=10") as held:
            assert held.status_code == 200
            with pytest.raises(httpwire.PoolTimeout):
                pool.request(
                    "GET", f"{http_server.url}/", extensions={"timeout": timeouts(pool=SHORT)}
                )
        response = pool.request("GET", f"{http_server.url}/")
    assert response.status_code == 200
    assert response.content == HELLO


def test_timeout_block_covers_a_whole_streamed_body(http_server: UvicornServer) -> None:
    # Each gap of the drip (0.05 s) is far below the read timeout: only the block can end it.
    received = 0
    with httpwire.Client(timeout=timeouts(read=10.0)) as client:
        with pytest.raises(httpwire.ReadTimeout):
            with httpwire.timeout(1.5):
                with client.stream("GET", f"{http_server.url}/drip?n=400&delay=0.05") as response:
                    for chunk in response.iter_bytes():
                        received += len(chunk)
    assert 0 < received < 400


def test_slow_but_live_stream_is_not_cut_off(http_server: UvicornServer) -> None:
    # 30 pieces 0.05 s apart take longer than the 1 s read timeout, which bounds each gap only.
    with httpwire.Client(timeout=timeouts(read=1.0)) as client:
        response = client.get(f"{http_server.url}/drip?n=30&delay=0.05")
    assert response.content == b"*" * 30


def test_nested_timeout_blocks_earliest_wins(http_server: UvicornServer) -> None:
    with httpwire.Client() as client, pytest.raises(httpwire.ReadTimeout):
        with httpwire.timeout(20), httpwire.timeout(SHORT):
            client.get(f"{http_server.url}/slow-head?seconds=10")


def test_cancelled_timeout_block_no_longer_applies(http_server: UvicornServer) -> None:
    with httpwire.Client() as client:
        with httpwire.timeout(0.1) as block:
            block.cancel()
            response = client.get(f"{http_server.url}/slow-head?seconds=0.4")
    assert response.status_code == 200


def test_timeout_block_long_enough_lets_requests_finish(live_server: UvicornServer) -> None:
    with httpwire.Client(verify=live_server.verify) as client, httpwire.timeout(30):
        response = client.get(f"{live_server.url}/bytes/{1 << 20}")
    assert len(response.content) == 1 << 20


# --- broken servers -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/truncated", "/truncated-chunked"])
def test_truncated_body(fault_server: FaultServer, path: str) -> None:
    with httpwire.Client() as client:
        with pytest.raises((httpwire.RemoteProtocolError, httpwire.ReadError)):
            client.get(f"{fault_server.url}{path}")
        # A broken connection is not reused: the next request gets a fresh one and succeeds.
        assert client.get(f"{fault_server.url}/ok").content == b"ok"
    assert fault_server.accepted == 2


def test_truncated_body_while_streaming(fault_server: FaultServer) -> None:
    received = 0
    with httpwire.Client() as client:
        with pytest.raises((httpwire.RemoteProtocolError, httpwire.ReadError)):
            with client.stream("GET", f"{fault_server.url}/truncated") as response:
                for chunk in response.iter_bytes():
                    received += len(chunk)
    assert received == FaultServer.TRUNCATED_SENT


def test_server_closes_without_response(fault_server: FaultServer) -> None:
    with httpwire.Client() as client:
        with pytest.raises((httpwire.RemoteProtocolError, httpwire.ReadError)):
            client.get(f"{fault_server.url}/close")


def test_server_resets_the_connection(fault_server: FaultServer) -> None:
    with httpwire.Client() as client:
        with pytest.raises(httpwire.ReadError):
            client.get(f"{fault_server.url}/reset")
        assert client.get(f"{fault_server.url}/ok").content == b"ok"


def test_write_timeout_when_the_server_stops_reading(fault_server: FaultServer) -> None:
    body = bytes(64 << 20)  # far more than the loopback socket buffers hold
    with httpwire.Client(timeout=timeouts(write=SHORT)) as client:
        with pytest.raises(httpwire.WriteTimeout):
            client.post(f"{fault_server.url}/no-read", content=body)
