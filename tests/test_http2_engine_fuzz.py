"""A bounded run of the scripts/fuzz-http2 harness: fixed seeds, fixed iteration counts.

The harness feeds mutated (frame-aware) and random server bytes, cut at arbitrary points, to a
client engine that opened 0-7 streams, and checks that only RemoteProtocolError escapes (with a
GOAWAY queued), that the receive buffer holds at most one frame, that the output stays within
twice the input (floods end in GOAWAY), that events name only streams the client opened and that
the HPACK table stays within the size we allowed.  The long coverage-guided run (atheris) is
described in docs/http2.md.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from httpwire import http2

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz-http2"


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("fuzz_http2", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fuzz_http2", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


fuzz = _load()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_inputs_keep_the_properties(seed: int) -> None:
    assert fuzz.run_random(3000, seed) == 3000


def test_seed_streams_under_every_flag_byte_whole_and_byte_by_byte() -> None:
    for stream in fuzz.SEEDS:
        for flags in range(128):
            for split in (0, 1):
                fuzz.check(bytes([flags, split]) + stream)


def test_seeds_are_valid_streams() -> None:
    # The seeds exercise the engine beyond the preface: each completes a response.
    for stream in fuzz.SEEDS:
        conn = http2.Connection()
        conn.initiate_connection()
        for _ in range(2):
            conn.send_headers(conn.get_next_available_stream_id(), fuzz.GET, end_stream=True)
        kinds = {type(e) for e in conn.receive_data(stream)}
        assert http2.RemoteSettingsChanged in kinds
        assert kinds & {http2.ResponseReceived, http2.ConnectionTerminated}


def test_check_catches_an_unexpected_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, data: bytes) -> list[object]:
        raise IndexError("boom")

    monkeypatch.setattr(http2.Connection, "receive_data", broken)
    with pytest.raises(fuzz.Failure, match="IndexError"):
        fuzz.run_random(2, 0)


def test_check_catches_amplification(monkeypatch: pytest.MonkeyPatch) -> None:
    original = http2.Connection.data_to_send
    monkeypatch.setattr(http2.Connection, "data_to_send", lambda self: original(self) + b"x" * 5000)
    with pytest.raises(fuzz.Failure, match="queued"):
        fuzz.check(b"\x01\x00" + fuzz.SEEDS[0])


def test_check_catches_a_missing_goaway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http2.Connection, "_fail", lambda self, code, msg: None)
    with pytest.raises(fuzz.Failure, match="GOAWAY"):
        fuzz.check(b"\x01\x00" + fuzz.frame(6, 0, 0, b"short"))
