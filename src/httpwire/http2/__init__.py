"""``httpwire.http2``: a sans-I/O HTTP/2 client engine (RFC 9113) with HPACK (RFC 7541)."""
