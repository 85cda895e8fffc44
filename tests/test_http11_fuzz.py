"""A bounded run of the scripts/fuzz-http11 harness: fixed seeds, fixed iteration counts.

The harness feeds mutated and random bytes, cut at arbitrary points, to both roles and checks
that only LocalProtocolError / RemoteProtocolError escape, that every piece is processed in a
bounded number of next_event calls, and that the receive buffer stays within
max_incomplete_event_size plus one read.  The long coverage-guided run (atheris) is described
in docs/http11.md.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import httpwire.http11 as h11

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz-http11"


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("fuzz_http11", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fuzz_http11", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


fuzz = _load()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_inputs_keep_the_properties(seed: int) -> None:
    assert fuzz.run_random(2500, seed) == 2500


def test_seed_messages_whole_and_byte_by_byte() -> None:
    # Every seed in both roles, with and without EOF, whole (split mode 0) and byte by byte
    # (split mode 1), at every size limit.
    for msg in fuzz.SEEDS:
        for flags in range(256):
            for split in (0, 1):
                fuzz.check(bytes([flags, split]) + msg)


def test_check_catches_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    # The harness must be able to fail: a next_event that never makes progress.
    monkeypatch.setattr(h11.Connection, "next_event", lambda self: h11.PAUSED)
    monkeypatch.setattr(fuzz, "_react_to_pause", lambda conn, server, method: True)
    with pytest.raises(fuzz.Failure, match="no progress"):
        fuzz.check(b"\x00\x00HTTP/1.1 200 OK\r\n\r\n")


def test_check_catches_an_unexpected_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object) -> object:
        raise IndexError("boom")

    monkeypatch.setattr(h11.Connection, "next_event", broken)
    with pytest.raises(fuzz.Failure, match="IndexError"):
        fuzz.run_random(1, 0)


def test_check_catches_an_oversized_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        h11.Connection, "trailing_data", property(lambda self: (b"x" * 10**6, False))
    )
    with pytest.raises(fuzz.Failure, match="buffer holds"):
        fuzz.check(b"\x00\x00HTTP/1.1 200 OK\r\n")
