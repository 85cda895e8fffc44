from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from httpwire._decoders import (
    ACCEPT_ENCODING,
    BrotliDecoder,
    ContentDecoder,
    DeflateDecoder,
    GZipDecoder,
    IdentityDecoder,
    MultiDecoder,
    ZStandardDecoder,
    get_decoder,
    supported_encodings,
)
from httpwire._exceptions import DecodingError

BODY = b"".join(b"line %d of a body that compresses well\n" % i for i in range(2000))


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _corrupt_crc(data: bytes, at: int = -8) -> bytes:
    """Flip the bits of one byte of the trailer (CRC-32 for gzip, Adler-32 for zlib)."""
    mangled = bytearray(data)
    mangled[at] ^= 0xFF
    return bytes(mangled)


ENCODED = {
    "gzip": gzip.compress(BODY),
    "x-gzip": gzip.compress(BODY),
    "deflate": zlib.compress(BODY),
    "br": brotli.compress(BODY),
    "zstd": zstandard.ZstdCompressor().compress(BODY),
}


def _decode_all(decoder: ContentDecoder, data: bytes, step: int) -> bytes:
    out = [decoder.decode(data[i : i + step]) for i in range(0, len(data), step)]
    out.append(decoder.flush())
    return b"".join(out)


@pytest.mark.parametrize("coding", sorted(ENCODED))
@pytest.mark.parametrize("step", [1, 7, 1000, 10**9])
def test_decoders_on_real_data(coding: str, step: int) -> None:
    assert _decode_all(get_decoder(coding), ENCODED[coding], step) == BODY


def test_raw_deflate_is_accepted() -> None:
    data = _raw_deflate(BODY)
    for step in (1, 2, 3, 500, len(data)):
        assert _decode_all(DeflateDecoder(), data, step) == BODY


def test_concatenated_gzip_members() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert _decode_all(GZipDecoder(), data, 5) == b"first second"
    assert _decode_all(GZipDecoder(), data, len(data)) == b"first second"


def test_concatenated_zstd_frames() -> None:
    c = zstandard.ZstdCompressor()
    data = c.compress(b"first ") + c.compress(b"second")
    assert _decode_all(ZStandardDecoder(), data, 3) == b"first second"
    assert _decode_all(ZStandardDecoder(), data, len(data)) == b"first second"


def test_several_codings_are_undone_in_reverse_order() -> None:
    # "Content-Encoding: gzip, br": gzip was applied first, then br.
    data = brotli.compress(gzip.compress(BODY))
    decoder = get_decoder("gzip, br")
    assert isinstance(decoder, MultiDecoder)
    assert _decode_all(decoder, data, 100) == BODY
    three = zstandard.ZstdCompressor().compress(zlib.compress(gzip.compress(BODY)))
    assert _decode_all(get_decoder("GZIP , deflate,zstd"), three, 4096) == BODY


def test_identity_and_empty() -> None:
    assert isinstance(get_decoder(None), IdentityDecoder)
    assert isinstance(get_decoder(""), IdentityDecoder)
    assert isinstance(get_decoder("identity"), IdentityDecoder)
    chunk = b"unchanged"
    assert IdentityDecoder().decode(chunk) is chunk


def test_unknown_coding_passes_through() -> None:
    assert _decode_all(get_decoder("compress"), b"opaque", 2) == b"opaque"
    # An unknown coding applied last blocks the ones before it.
    assert _decode_all(get_decoder("gzip, foo"), b"opaque", 2) == b"opaque"
    # An unknown coding applied first: the later (known) ones are still undone.
    assert _decode_all(get_decoder("foo, gzip"), gzip.compress(b"xy"), 2) == b"xy"


def test_empty_body_with_coding_is_fine() -> None:
    for coding in ("gzip", "deflate", "br", "zstd"):
        assert get_decoder(coding).flush() == b""


@pytest.mark.parametrize(
    ("decoder", "data", "name"),
    [
        (GZipDecoder, b"this is not gzip at all", "gzip"),
        (GZipDecoder, _corrupt_crc(gzip.compress(BODY)), "gzip"),
        (DeflateDecoder, _corrupt_crc(zlib.compress(BODY), at=-1), "deflate"),
        (DeflateDecoder, b"\xff\xfe this is not deflate", "deflate"),
        (BrotliDecoder, b"\xff\xff\xff\xff not brotli", "br"),
        (ZStandardDecoder, b"\x28\xb5\x2f\xfd garbage garbage garbage", "zstd"),
    ],
)
def test_corrupt_data_raises_decoding_error(
    decoder: type[ContentDecoder], data: bytes, name: str
) -> None:
    with pytest.raises(DecodingError, match=f"Invalid {name}-encoded body"):
        _decode_all(decoder(), data, 10)


def test_supported_encodings() -> None:
    # brotli and zstandard are installed in the test environment.
    assert supported_encodings() == ["gzip", "deflate", "br", "zstd"]
    assert ACCEPT_ENCODING == "gzip, deflate, br, zstd"
