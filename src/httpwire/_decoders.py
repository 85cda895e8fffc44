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

from ._exceptions import DecodingError

__all__ = [
    "ContentDecoder",
    "IdentityDecoder",
    "GZipDecoder",
    "DeflateDecoder",
    "BrotliDecoder",
    "ZStandardDecoder",
    "MultiDecoder",
    "RequestContextDecoder",
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


class ContentDecoder:
    """Base class: ``decode`` each chunk in order, then ``flush`` once at the end."""

    def decode(self, data: bytes) -> bytes:
        """Decode the next chunk; may return ``b""`` while input is buffered. Raises
        ``DecodingError`` on corrupt data."""
        raise NotImplementedError  # pragma: no cover

    def flush(self) -> bytes:
        """The bytes still held at the end of the body; raises ``DecodingError`` if incomplete
        data makes the coding invalid."""
        raise NotImplementedError  # pragma: no cover


class IdentityDecoder(ContentDecoder):
    """No coding: bytes pass through unchanged (and uncopied)."""

    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class GZipDecoder(ContentDecoder):
    """``gzip`` / ``x-gzip`` (RFC 1952), including several concatenated members."""

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def decode(self, data: bytes) -> bytes:
        output = []
        try:
            while data:
                output.append(self._decompressor.decompress(data))
                if not self._decompressor.eof:
                    break
                # A member ended; what follows is the next member (RFC 1952 §2.2).
                data = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        except zlib.error as exc:
            raise DecodingError(f"Invalid gzip-encoded body: {exc}") from exc
        return b"".join(output)

    def flush(self) -> bytes:
        try:
            return self._decompressor.flush()
        except zlib.error as exc:  # pragma: no cover - flush rarely fails
            raise DecodingError(f"Invalid gzip-encoded body: {exc}") from exc


class DeflateDecoder(ContentDecoder):
    """``deflate``: the zlib format of RFC 9110 §8.4.1.2 (RFC 1950), or raw deflate (RFC 1951),
    which some servers send instead; the format is chosen from the first bytes."""

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj()
        self._undecided: bytes | None = b""  # input kept until the format is known

    def decode(self, data: bytes) -> bytes:
        try:
            if self._undecided is None:
                return self._decompressor.decompress(data)
            self._undecided += data
            try:
                output = self._decompressor.decompress(data)
            except zlib.error:
                # Not the zlib format: start again from the first byte as raw deflate.
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                output = self._decompressor.decompress(self._undecided)
                self._undecided = None
                return output
            if output or len(self._undecided) >= 2:
                self._undecided = None  # the zlib header was accepted
            return output
        except zlib.error as exc:
            raise DecodingError(f"Invalid deflate-encoded body: {exc}") from exc

    def flush(self) -> bytes:
        try:
            return self._decompressor.flush()
        except zlib.error as exc:  # pragma: no cover - flush rarely fails
            raise DecodingError(f"Invalid deflate-encoded body: {exc}") from exc


class BrotliDecoder(ContentDecoder):
    """``br`` (RFC 7932); needs the ``brotli`` package."""

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

    def flush(self) -> bytes:
        return b""


class ZStandardDecoder(ContentDecoder):
    """``zstd`` (RFC 8878), including several concatenated frames; needs ``zstandard``."""

    def __init__(self) -> None:
        if zstandard is None:  # pragma: no cover - depends on the environment
            raise ImportError(
                "decoding 'zstd' needs the zstandard package: pip install httpwire[zstd]"
            )
        self._decompressor = zstandard.ZstdDecompressor().decompressobj()

    def decode(self, data: bytes) -> bytes:
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


class RequestContextDecoder(ContentDecoder):
    """Wraps a decoder so that the ``DecodingError`` it raises carries ``request`` (httpx's
    ``exc.request``), however the body is read (``read()``, ``iter_bytes()``, streamed)."""

    __slots__ = ("_decoder", "_request")

    def __init__(self, decoder: ContentDecoder, request: typing.Any) -> None:
        self._decoder = decoder
        self._request = request

    def decode(self, data: bytes) -> bytes:
        try:
            return self._decoder.decode(data)
        except DecodingError as exc:
            if exc._request is None:
                exc._request = self._request
            raise

    def flush(self) -> bytes:
        try:
            return self._decoder.flush()
        except DecodingError as exc:
            if exc._request is None:
                exc._request = self._request
            raise


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
