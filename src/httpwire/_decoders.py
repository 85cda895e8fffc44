"""Incremental content decoders for ``Content-Encoding`` (RFC 9110 §8.4).

``get_decoder(response.headers.get("content-encoding"))`` gives a decoder with
``decode(chunk) -> bytes`` and ``flush() -> bytes``. Several codings in one header
(``Content-Encoding: gzip, br``) were applied in that order by the server, so they are undone in
reverse order. A coding we do not know stops the decoding there: the codings applied after it are
undone and the rest is passed through (httpx, requests and curl also pass unknown codings
through), so the body stays readable. Corrupt data raises
:class:`~httpwire.DecodingError`.

``br`` needs the ``brotli`` package (``pip install httpwire[brotli]``) and ``zstd`` the
``zstandard`` package (``httpwire[zstd]``); :func:`supported_encodings` lists what is installed,
for the default ``Accept-Encoding`` header.
"""

from __future__ import annotations

import typing
import zlib
from collections.abc import Iterator

from ._exceptions import DecodingError

__all__ = [
    "ContentDecoder",
    "IdentityDecoder",
    "GZipDecoder",
    "DeflateDecoder",
    "BrotliDecoder",
    "ZStandardDecoder",
    "MultiDecoder",
    "get_decoder",
    "supported_encodings",
    "SUPPORTED_ENCODINGS",
    "ACCEPT_ENCODING",
]

try:
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

try:
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None  # type: ignore[assignment]


#: The largest piece :meth:`ContentDecoder.decode_pieces` yields unless told otherwise (64 KiB).
MAX_PIECE = 1 << 16


class ContentDecoder:
    """Base class: ``decode`` each chunk in order, then ``flush`` once at the end.

    ``decode``/``flush`` return all the output at once, for a body already held in memory.
    ``decode_pieces``/``flush_pieces`` yield it in pieces of at most ``max_length`` bytes each,
    asking the decompressor for no more than that at a time, so a small compressed input that
    expands hugely (a "decompression bomb": 1 GiB of zeros is 1.6 KB of brotli) never exists in
    memory as one piece. Each generator must be run to its end before the next call.
    """

    def decode(self, data: bytes) -> bytes:
        """Decode the next chunk; may return ``b""`` while input is buffered. Raises
        ``DecodingError`` on corrupt data."""
        return b"".join(self.decode_pieces(data))

    def flush(self) -> bytes:
        """The bytes still held at the end of the body; raises ``DecodingError`` if incomplete
        data makes the coding invalid."""
        return b"".join(self.flush_pieces())

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        """The output for the next chunk, in non-empty pieces of at most ``max_length`` bytes
        (> 0; gzip and deflate also take 0: no limit). Raises ``DecodingError`` on corrupt
        data."""
        raise NotImplementedError  # pragma: no cover

    def flush_pieces(self, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        """Like :meth:`flush`, in pieces of at most ``max_length`` bytes."""
        data = self.flush()
        for start in range(0, len(data), max_length):
            yield data[start : start + max_length]


class IdentityDecoder(ContentDecoder):
    """No coding: bytes pass through unchanged (and uncopied)."""

    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        # Received pieces are bounded by the network reads already: not sliced further.
        if data:
            yield data

    def flush_pieces(self, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        return iter(())


def _inflate_pieces(decompressor: typing.Any, data: bytes, max_length: int) -> Iterator[bytes]:
    """zlib output for ``data`` in pieces of at most ``max_length`` bytes (``max_length`` and
    ``unconsumed_tail``; 0: no limit, one piece); stops at the end of the stream (``eof``),
    leaving ``unused_data``."""
    while True:
        out = decompressor.decompress(data, max_length)
        if out:
            yield out
        if decompressor.eof:
            return
        data = decompressor.unconsumed_tail
        if not data and (max_length == 0 or len(out) < max_length):
            return  # all input consumed and no output left pending: more input is needed


class GZipDecoder(ContentDecoder):
    """``gzip`` / ``x-gzip`` (RFC 1952), including several concatenated members."""

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def decode(self, data: bytes) -> bytes:
        # One piece per member (no limit): a body held whole is not copied piece by piece.
        return b"".join(self.decode_pieces(data, 0))

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        try:
            while data:
                yield from _inflate_pieces(self._decompressor, data, max_length)
                if not self._decompressor.eof:
                    break
                # A member ended; what follows is the next member (RFC 1952 §2.2).
                data = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        except zlib.error as exc:
            raise DecodingError(f"Invalid gzip-encoded body: {exc}") from exc

    def flush(self) -> bytes:
        try:
            return self._decompressor.flush()
        except zlib.error as exc:  # pragma: no cover - flush rarely fails
            raise DecodingError(f"Invalid gzip-encoded body: {exc}") from exc


def _is_zlib_header(head: bytes) -> bool:
    """Whether two bytes open a zlib stream (RFC 1950 §2.2: CM 8, CINFO <= 7, FCHECK)."""
    return head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0


class DeflateDecoder(ContentDecoder):
    """``deflate``: the zlib format of RFC 9110 §8.4.1.2 (RFC 1950), or raw deflate (RFC 1951),
    which some servers send instead; the format is chosen from the first two bytes (a valid
    zlib header, else raw deflate)."""

    def __init__(self) -> None:
        self._decompressor: typing.Any = None
        self._undecided = b""  # input kept until the format is known

    def _start(self, data: bytes) -> bytes:
        """The input to decompress, once the format is known (``b""`` while it is not)."""
        if self._decompressor is None:
            data = self._undecided + data
            if len(data) < 2:
                self._undecided = data
                return b""
            wbits = zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS
            self._decompressor = zlib.decompressobj(wbits)
            self._undecided = b""
        return data

    def decode(self, data: bytes) -> bytes:
        return b"".join(self.decode_pieces(data, 0))

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        try:
            data = self._start(data)
            if data:
                yield from _inflate_pieces(self._decompressor, data, max_length)
        except zlib.error as exc:
            raise DecodingError(f"Invalid deflate-encoded body: {exc}") from exc

    def flush(self) -> bytes:
        if self._decompressor is None:
            return b""  # fewer than two bytes in all: like zlib's flush of a cut stream
        try:
            rest: bytes = self._decompressor.flush()
            return rest
        except zlib.error as exc:  # pragma: no cover - flush rarely fails
            raise DecodingError(f"Invalid deflate-encoded body: {exc}") from exc


#: brotli >= 1.2 bounds the output of each call (``output_buffer_limit``); older versions
#: decode each input chunk whole (the ``brotli`` extra asks for 1.2).
_BROTLI_HAS_LIMIT = brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")


class BrotliDecoder(ContentDecoder):
    """``br`` (RFC 7932); needs the ``brotli`` package (>= 1.2 for bounded pieces:
    ``output_buffer_limit``)."""

    def __init__(self) -> None:
        if brotli is None:  # pragma: no cover - depends on the environment
            raise ImportError(
                "decoding 'br' needs the brotli package: pip install httpwire[brotli]"
            )
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        if not data:
            return b""
        try:
            return bytes(self._decompressor.process(data))
        except brotli.error as exc:
            raise DecodingError(f"Invalid br-encoded body: {exc}") from exc

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        if not data:
            return
        decompressor = self._decompressor
        if not _BROTLI_HAS_LIMIT:  # brotli < 1.2: the output of a call is not bounded
            out = self.decode(data)
            for start in range(0, len(out), max_length):
                yield out[start : start + max_length]
            return
        try:
            # The output buffer stops growing once it reaches the limit (it may pass it by one
            # growth step: such pieces are cut); the rest comes from further calls with no
            # input. (can_accept_more_data() alone is not enough: brotli 1.2 answers True with
            # output still pending, so a full buffer also means "ask again".)
            out = decompressor.process(data, output_buffer_limit=max_length)
            while True:
                if len(out) > max_length:
                    for start in range(0, len(out), max_length):
                        yield out[start : start + max_length]
                elif out:
                    yield out
                if len(out) < max_length and decompressor.can_accept_more_data():
                    return
                out = decompressor.process(b"", output_buffer_limit=max_length)
        except brotli.error as exc:
            raise DecodingError(f"Invalid br-encoded body: {exc}") from exc

    def flush(self) -> bytes:
        return b""


class _NeedInput(Exception):
    """Raised by :class:`_PendingInput` when it holds no more input (see ZStandardDecoder)."""


class _PendingInput:
    """The compressed input a zstd stream reader pulls from: what was fed so far. When empty it
    raises rather than answer ``b""``, which the reader would take as the end of its input for
    good; ``read1`` calls it only while it has produced no output, so nothing is lost."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = b""

    def read(self, size: int) -> bytes:
        if not self.data:
            raise _NeedInput
        out, self.data = self.data[:size], self.data[size:]
        return out


class ZStandardDecoder(ContentDecoder):
    """``zstd`` (RFC 8878), including several concatenated frames; needs ``zstandard``.

    ``decode_pieces`` pulls through a ``stream_reader`` (``read1(max_length)``), the one
    zstandard interface that bounds the output of each call; ``decompressobj`` returns all the
    output of its input at once."""

    def __init__(self) -> None:
        if zstandard is None:  # pragma: no cover - depends on the environment
            raise ImportError(
                "decoding 'zstd' needs the zstandard package: pip install httpwire[zstd]"
            )
        self._decompressor = zstandard.ZstdDecompressor().decompressobj()
        self._input: _PendingInput | None = None
        self._reader: typing.Any = None

    def decode(self, data: bytes) -> bytes:
        if self._reader is not None:
            return b"".join(self.decode_pieces(data))
        output = []
        try:
            while data:
                output.append(self._decompressor.decompress(data))
                if not self._decompressor.eof:
                    break
                data = self._decompressor.unused_data
                self._decompressor = zstandard.ZstdDecompressor().decompressobj()
        except zstandard.ZstdError as exc:
            raise DecodingError(f"Invalid zstd-encoded body: {exc}") from exc
        return b"".join(output)

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        if self._reader is None:
            self._input = _PendingInput()
            self._reader = zstandard.ZstdDecompressor().stream_reader(
                typing.cast(typing.IO[bytes], self._input), read_across_frames=True
            )
        assert self._input is not None
        self._input.data += data
        try:
            while True:
                try:
                    out = self._reader.read1(max_length)
                except _NeedInput:
                    return
                if not out:
                    return
                yield out
        except zstandard.ZstdError as exc:
            raise DecodingError(f"Invalid zstd-encoded body: {exc}") from exc

    def flush(self) -> bytes:
        return b""


class MultiDecoder(ContentDecoder):
    """Several codings, given in header order; decoding undoes them last to first."""

    def __init__(self, children: typing.Sequence[ContentDecoder]) -> None:
        self._children = list(reversed(children))

    def decode(self, data: bytes) -> bytes:
        for child in self._children:
            data = child.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for child in self._children:
            data = child.decode(data) + child.flush()
        return data

    def decode_pieces(self, data: bytes, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        return self._through(0, data, max_length)

    def flush_pieces(self, max_length: int = MAX_PIECE) -> Iterator[bytes]:
        for index, child in enumerate(self._children):
            for piece in child.flush_pieces(max_length):
                yield from self._through(index + 1, piece, max_length)

    def _through(self, index: int, data: bytes, max_length: int) -> Iterator[bytes]:
        """``data`` decoded by the children from ``index`` on, piece by piece."""
        if index == len(self._children):
            if data:
                yield data
            return
        for piece in self._children[index].decode_pieces(data, max_length):
            yield from self._through(index + 1, piece, max_length)


_DECODERS: dict[str, type[ContentDecoder]] = {
    "identity": IdentityDecoder,
    "gzip": GZipDecoder,
    "x-gzip": GZipDecoder,
    "deflate": DeflateDecoder,
}
if brotli is not None:
    _DECODERS["br"] = BrotliDecoder
if zstandard is not None:
    _DECODERS["zstd"] = ZStandardDecoder


def supported_encodings() -> list[str]:
    """Codings we can decode, best first, for ``Accept-Encoding`` (``identity`` left out)."""
    names = ["gzip", "deflate"]
    if brotli is not None:
        names.append("br")
    if zstandard is not None:
        names.append("zstd")
    return names


#: The codings :func:`get_decoder` can undo, best first (a tuple, fixed at import).
SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(supported_encodings())

#: The default ``Accept-Encoding`` value: the installed decoders, e.g. ``"gzip, deflate, br, zstd"``.
ACCEPT_ENCODING = ", ".join(supported_encodings())


def get_decoder(content_encoding: str | None) -> ContentDecoder:
    """The decoder for a ``Content-Encoding`` header value (``None`` or ``""``: identity).

    Decoding stops at an unknown coding (counting from the last applied), whose bytes then pass
    through as they are. Raises ``ImportError`` never: ``br`` / ``zstd`` are only known when the
    package is installed.
    """
    if not content_encoding:
        return IdentityDecoder()
    names = [name.strip().lower() for name in content_encoding.split(",")]
    decoders: list[ContentDecoder] = []
    # Undo codings from the last applied; an unknown one blocks everything applied before it.
    for name in reversed(names):
        if name in ("identity", ""):
            continue
        if name not in _DECODERS:
            break
        decoders.insert(0, _DECODERS[name]())
    if not decoders:
        return IdentityDecoder()
    if len(decoders) == 1:
        return decoders[0]
    return MultiDecoder(decoders)
