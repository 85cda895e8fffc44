"""The in-process transports against real frameworks: ``ASGITransport`` with a FastAPI app on
asyncio and trio (streamed response and request bodies included), ``WSGITransport`` with a Flask
app (streamed both ways, and from several threads at once)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import flask
import pytest
import trio
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.responses import JSONResponse, StreamingResponse

import ahttpwire
import httpwire

Run = Callable[[Callable[[], Awaitable[Any]]], Any]


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Run:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


# -- FastAPI over ASGITransport --------------------------------------------------------------------


class Gate:
    """Lets the app's second chunk wait until the client has seen the first: only a transport
    that streams the response gets past it (one that collects the body first would hang)."""

    def __init__(self) -> None:
        self.first_seen = anyio.Event()


def make_fastapi_app(gate: Gate) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str = "") -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.get("/scope")
    async def scope(request: FastAPIRequest) -> dict[str, Any]:
        return {
            "client": list(request.scope["client"]),
            "root_path": request.scope["root_path"],
            "server": list(request.scope["server"]),
            "raw_path": request.scope["raw_path"].decode(),
            "host": request.headers["host"],
        }

    @app.post("/upload")
    async def upload(request: FastAPIRequest) -> dict[str, Any]:
        sizes = [len(chunk) async for chunk in request.stream() if chunk]
        return {"chunks": sizes, "total": sum(sizes)}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first;"
            with anyio.fail_after(5):  # bounded: a buffering transport fails here, not hangs
                await gate.first_seen.wait()
            yield b"second;"
            yield b"third"

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/boom")
    async def boom() -> JSONResponse:
        raise RuntimeError("the app failed")

    return app


def test_fastapi_app_on_asyncio_and_trio(run: Run) -> None:
    async def main() -> None:
        gate = Gate()
        transport = ahttpwire.ASGITransport(
            make_fastapi_app(gate), root_path="/api", client=("10.1.2.3", 4567)
        )
        async with ahttpwire.Client(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/items/42", params={"q": "x y"})
            assert response.status_code == 200
            assert response.json() == {"item_id": 42, "q": "x y"}

            scope = (await client.get("/scope")).json()
            assert scope == {
                "client": ["10.1.2.3", 4567],
                "root_path": "/api",
                "server": ["testserver", 80],
                "raw_path": "/scope",
                "host": "testserver",
            }

            assert (await client.get("/nowhere")).status_code == 404

            async def upload() -> AsyncIterator[bytes]:
                for size in (3, 5, 7):
                    yield b"x" * size

            response = await client.post("/upload", content=upload())
            assert response.json() == {"chunks": [3, 5, 7], "total": 15}

            async with client.stream("GET", "/stream") as streamed:
                chunks = []
                async for chunk in streamed.aiter_bytes():
                    chunks.append(chunk)
                    gate.first_seen.set()
            assert chunks == [b"first;", b"second;", b"third"]

    run(main)


def test_asgi_app_exceptions(run: Run) -> None:
    async def main() -> None:
        app = make_fastapi_app(Gate())
        async with ahttpwire.Client(transport=ahttpwire.ASGITransport(app)) as client:
            with pytest.raises(RuntimeError, match="the app failed"):
                await client.get("http://testserver/boom")
        transport = ahttpwire.ASGITransport(app, raise_app_exceptions=False)
        async with ahttpwire.Client(transport=transport) as client:
            assert (await client.get("http://testserver/boom")).status_code == 500

    run(main)


def test_asgi_response_closed_early_cancels_the_app(run: Run) -> None:
    """A client that stops reading a never-ending stream closes it; the app's task is cancelled
    (it would otherwise wait for the reader forever)."""
    cancelled: list[bool] = []

    async def endless(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
        except BaseException:
            cancelled.append(True)
            raise

    async def main() -> None:
        transport = ahttpwire.ASGITransport(endless)
        async with ahttpwire.Client(transport=transport) as client:
            async with client.stream("GET", "http://testserver/") as response:
                async for _ in response.aiter_raw():
                    break
            with anyio.fail_after(5):
                while not cancelled:
                    await anyio.sleep(0)

    run(main)
    assert cancelled == [True]


def test_asgi_app_that_never_responds_is_an_error(run: Run) -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def main() -> None:
        async with ahttpwire.Client(transport=ahttpwire.ASGITransport(silent)) as client:
            with pytest.raises(RuntimeError, match="without sending"):
                await client.get("http://testserver/")

    run(main)


# -- Flask over WSGITransport ----------------------------------------------------------------------


def make_flask_app(gate: threading.Event) -> flask.Flask:
    app = flask.Flask("httpwire-tests")

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> Any:
        return {"item_id": item_id, "q": flask.request.args.get("q", "")}

    @app.get("/environ")
    def environ() -> Any:
        env = flask.request.environ
        return {
            "script_name": env["SCRIPT_NAME"],
            "path_info": env["PATH_INFO"],
            "remote_addr": env["REMOTE_ADDR"],
            "server": [env["SERVER_NAME"], env["SERVER_PORT"]],
            "thread": threading.get_ident(),
        }

    @app.post("/upload")
    def upload() -> Any:
        sizes = []
        while chunk := flask.request.stream.read(4):
            sizes.append(len(chunk))
        return {"reads": len(sizes), "total": sum(sizes)}

    @app.get("/stream")
    def stream() -> flask.Response:
        def body() -> Iterator[bytes]:
            yield b"first;"
            assert gate.wait(5), "the client never saw the first chunk"
            yield b"second;"
            yield b"third"

        return flask.Response(body(), mimetype="text/plain")

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("the app failed")

    return app


def test_flask_app() -> None:
    gate = threading.Event()
    app = make_flask_app(gate)
    transport = httpwire.WSGITransport(app, script_name="/api", remote_addr="10.9.8.7")
    with httpwire.Client(transport=transport, base_url="https://testserver") as client:
        assert client.get("/api/items/7", params={"q": "z"}).json() == {"item_id": 7, "q": "z"}
        env = client.get("/environ").json()
        assert env["script_name"] == "/api" and env["path_info"] == "/environ"
        assert env["remote_addr"] == "10.9.8.7" and env["server"] == ["testserver", "443"]
        assert client.get("/nowhere").status_code == 404

        def upload() -> Iterator[bytes]:  # no Content-Length: chunked, read to its end
            yield b"abcdef"
            yield b"ghij"

        assert client.post("/upload", content=upload()).json() == {"reads": 3, "total": 10}
        assert client.post("/upload", content=b"x" * 9).json() == {"reads": 3, "total": 9}

        with client.stream("GET", "/stream") as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                gate.set()
        assert chunks == [b"first;", b"second;", b"third"]

        assert client.get("/boom").status_code == 500  # Flask's own error page
        app.config["PROPAGATE_EXCEPTIONS"] = True  # Flask re-raises: the exception reaches us
        with pytest.raises(RuntimeError, match="the app failed"):
            client.get("/boom")


def test_flask_app_from_several_threads() -> None:
    app = make_flask_app(threading.Event())
    with httpwire.Client(transport=httpwire.WSGITransport(app)) as client:
        # The first four calls meet at a barrier, so four worker threads are surely in flight
        # at once (without it, one fast thread could take every call and nothing is shown).
        start = threading.Barrier(4)

        def call(i: int) -> tuple[int, int]:
            if i < 4:
                start.wait(timeout=10)
            response = client.get(f"http://testserver/items/{i}")
            return response.json()["item_id"], client.get("http://testserver/environ").json()[
                "thread"
            ]

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(call, range(16)))
    assert [item for item, _ in results] == list(range(16))
    assert len({thread for _, thread in results}) >= 4  # the app ran in the calling threads


def test_wsgi_exc_info_and_raise_app_exceptions() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            raise ValueError("reported")
        except ValueError:
            import sys

            start_response(
                "500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info()
            )
        return [b"failed"]

    with httpwire.Client(transport=httpwire.WSGITransport(app)) as client:
        with pytest.raises(ValueError, match="reported"):
            client.get("http://testserver/")
    transport = httpwire.WSGITransport(app, raise_app_exceptions=False)
    with httpwire.Client(transport=transport) as client:
        response = client.get("http://testserver/")
    assert response.status_code == 500 and response.text == "failed"


def test_wsgi_response_iterable_is_closed() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"
            yield b"b"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body()

    with httpwire.Client(transport=httpwire.WSGITransport(app)) as client:
        assert client.get("http://testserver/").content == b"ab"
        with client.stream("GET", "http://testserver/") as response:
            next(response.iter_raw())
    assert closed == [True, True]


def test_asgi_deadlines_apply_and_cancel_the_app(run: Run) -> None:
    """A hung app raises ReadTimeout (the read limit, and a timeout() block around a streamed
    body) instead of hanging the caller, and its task is cancelled."""
    cancelled: list[str] = []

    async def hangs_before_responding(scope: Any, receive: Any, send: Any) -> None:
        try:
            await anyio.sleep(30)
        except BaseException:
            cancelled.append("head")
            raise

    async def hangs_mid_body(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        try:
            await anyio.sleep(30)
        except BaseException:
            cancelled.append("body")
            raise

    async def main() -> None:
        transport = ahttpwire.ASGITransport(hangs_before_responding)
        async with ahttpwire.Client(
            transport=transport, timeout=httpwire.Timeout(5, read=0.2)
        ) as client:
            with anyio.fail_after(4), pytest.raises(httpwire.ReadTimeout) as info:
                await client.get("http://testserver/")
            assert info.value.request.url == "http://testserver/"
        transport = ahttpwire.ASGITransport(hangs_mid_body)
        async with ahttpwire.Client(transport=transport) as client:
            async with client.stream("GET", "http://testserver/") as response:
                with anyio.fail_after(4), pytest.raises(httpwire.ReadTimeout):
                    async with ahttpwire.timeout(0.2):
                        async for _ in response.aiter_raw():
                            pass
        with anyio.fail_after(4):
            while len(cancelled) < 2:
                await anyio.sleep(0.01)

    run(main)
    assert sorted(cancelled) == ["body", "head"]


def test_wsgi_write_callable_output_comes_first() -> None:
    """PEP 3333's legacy write(): bytes written before returning the iterable lead the body
    (httpx drops them)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"then iterated"]

    with httpwire.Client(transport=httpwire.WSGITransport(app)) as client:
        assert client.get("http://testserver/").text == "written, then iterated"


def test_asgi_receive_from_two_tasks_at_once(run: Run) -> None:
    """Two tasks of the app calling receive() together (as Starlette's disconnect listener and
    an endpoint may) share the request body without tripping over each other."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got: list[bytes] = []

        async with anyio.create_task_group() as tg:

            async def reader() -> None:
                while True:
                    message = await receive()
                    got.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        tg.cancel_scope.cancel()  # the body is complete: stop the other reader
                        return

            tg.start_soon(reader)
            tg.start_soon(reader)
        body = b"".join(got)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def upload() -> AsyncIterator[bytes]:
        for i in range(20):
            await anyio.sleep(0)
            yield b"%02d," % i

    async def main() -> bytes:
        async with ahttpwire.Client(transport=ahttpwire.ASGITransport(app)) as client:
            with anyio.fail_after(5):
                return (await client.post("http://testserver/", content=upload())).content

    body = run(main)
    assert sorted(body.split(b",")[:-1]) == [b"%02d" % i for i in range(20)]
