"""What only the sync flavour has, against real servers: threads sharing one client.
Everything both flavours share is in ``test_integration_async.py``, the source of
``test_integration_sync.py``.
"""

from __future__ import annotations

import threading

from servers import UvicornServer

import httpwire


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
