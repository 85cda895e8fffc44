"""The receive buffer: received bytes plus a read offset, never copied on the common path.

When the buffer is empty, a received ``bytes`` object is kept as is (no copy), so a whole
response that arrives in one ``receive_data`` is parsed straight out of the caller's object, and
a body piece that is exactly what arrived is handed back as that same object.  Only when bytes
are left over does the buffer become a ``bytearray`` that later pieces are appended to; the
consumed prefix is dropped lazily, so extraction is O(bytes extracted).
"""

from __future__ import annotations

__all__ = ["ReceiveBuffer"]

# Drop the consumed prefix of a bytearray once it is this large and at least half the buffer.
_COMPACT_AT = 64 * 1024


class ReceiveBuffer:
    """``data[pos:]`` is the unprocessed input; readers advance ``pos`` directly."""

    __slots__ = ("data", "pos")

    def __init__(self) -> None:
        self.data: bytes | bytearray = b""
        self.pos = 0

    def add(self, chunk: bytes | bytearray | memoryview) -> None:
        data = self.data
        pos = self.pos
        if pos >= len(data):
            self.data = chunk if type(chunk) is bytes else bytes(chunk)
            self.pos = 0
        elif type(data) is bytes:
            grown = bytearray(memoryview(data)[pos:])
            grown += chunk
            self.data = grown
            self.pos = 0
        else:
            assert isinstance(data, bytearray)
            if pos >= _COMPACT_AT and pos * 2 >= len(data):
                del data[:pos]
                self.pos = 0
            data += chunk

    def take(self, n: int) -> bytes:
        """Remove and return the next ``n`` bytes (the caller checked they are there)."""
        data = self.data
        pos = self.pos
        self.pos = pos + n
        if type(data) is bytes:
            if pos == 0 and n == len(data):
                return data
            return data[pos : pos + n]
        return bytes(memoryview(data)[pos : pos + n])

    def __len__(self) -> int:
        return len(self.data) - self.pos

    def __bool__(self) -> bool:
        return len(self.data) > self.pos

    def __bytes__(self) -> bytes:
        return bytes(memoryview(self.data)[self.pos :])
