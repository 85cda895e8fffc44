"""Byte classes and precompiled checks from the grammar of RFC 9110 and RFC 9112.

Every check here is a single C-level call (``bytes.translate`` or one compiled regex) over a
whole piece of input, so validation costs a few calls per message, not per byte or per line.
"""

from __future__ import annotations

import re

#: RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#: "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.  ``x.translate(None, TCHAR)`` is empty iff every
#: byte of ``x`` is a tchar.
TCHAR = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: RFC 5234 VCHAR (%x21-7E): the bytes a request-target may use (RFC 9112 §3.2).
VCHAR = bytes(range(0x21, 0x7F))

#: RFC 5234 HEXDIG, both cases (chunk sizes, RFC 9112 §7.1).
HEXDIG = b"0123456789abcdefABCDEF"

#: The longest chunk-size we accept, in hex digits (16 -> up to 2**64 - 1 bytes).
MAX_CHUNK_SIZE_DIGITS = 16

#: The largest Content-Length we accept: 2**63 - 1 bytes, the largest size a file, a socket
#: count or a buffer length can represent (h11 takes any 20 digits; a bigger declared length
#: is no body anyone sends, and a buffer sized from it raised OverflowError or MemoryError).
MAX_CONTENT_LENGTH = 2**63 - 1

#: The longest Content-Length we accept, in decimal digits (that of MAX_CONTENT_LENGTH).
MAX_CONTENT_LENGTH_DIGITS = 19

_tchar_class = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]"

#: A whole field section as it sits on the wire after the start-line: zero or more
#: ``field-name ":" field-value CRLF`` lines (RFC 9112 §5).  field-name must be a token (so no
#: whitespace before the colon, §5.1) and a field value may not hold CR, LF or NUL (RFC 9110
#: §5.5).  Other control bytes and obs-text are kept, as RFC 9110 §5.5 allows.
FIELD_SECTION_RE = re.compile(_tchar_class + rb"+:[^\r\n\x00]*\r\n")
FIELD_SECTION_FULL_RE = re.compile(rb"(?:" + _tchar_class + rb"+:[^\r\n\x00]*\r\n)*")

#: status-line = HTTP-version SP status-code SP [ reason-phrase ]  (RFC 9112 §4).  We accept a
#: missing SP after the code (seen in the wild; h11 does too) and any HTTP/1.x minor version.
STATUS_LINE_RE = re.compile(rb"HTTP/(1\.[0-9]) ([0-9]{3})(?: ([^\r\n\x00]*))?")

#: A value we may put on the wire as a field value (sending side): no CR, LF, NUL; no leading
#: or trailing whitespace (h11's rule, which keeps what we send equal to what a peer parses).
FIELD_VALUE_RE = re.compile(rb"(?:[^\x00\s](?:[ \t]*[^\x00\s])*)?")

#: A reason phrase we may send: HTAB, SP, VCHAR, obs-text (RFC 9112 §4).
REASON_RE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")

#: HTTP-version as h11 spells it in events: DIGIT "." DIGIT.
HTTP_VERSION_RE = re.compile(rb"[0-9]\.[0-9]")
