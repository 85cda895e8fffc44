"""Make ``import h11`` (and ``from h11._connection import ...``) load ``httpwire.http11``.

For running unmodified h11-based software (uvicorn's ``--http h11`` protocol, h11-style
clients) on httpwire's engine.  Call :func:`install` before the software imports h11, in a
process of its own: it replaces ``h11`` in ``sys.modules`` for the whole process.
"""

from __future__ import annotations

import importlib
import sys

import httpwire.http11

#: h11's private submodules that software is known to import from (uvicorn takes
#: DEFAULT_MAX_INCOMPLETE_EVENT_SIZE from ``h11._connection``), mapped to ours.
_SUBMODULES = ("_connection", "_events", "_state", "_util", "_headers", "_readers", "_writers")


def install() -> None:
    """Put ``httpwire.http11`` in ``sys.modules`` under the name ``h11`` (and its submodules).

    Raises RuntimeError if the real h11 was already imported in this process (the software
    could then hold references to it and the swap would be partial).
    """
    if "h11" in sys.modules and sys.modules["h11"] is not httpwire.http11:
        raise RuntimeError("the real h11 is already imported; install the shim first")
    sys.modules["h11"] = httpwire.http11
    for name in _SUBMODULES:
        sys.modules[f"h11.{name}"] = importlib.import_module(f"httpwire.http11.{name}")


def check() -> None:
    """Raise RuntimeError unless ``import h11`` gives httpwire.http11 (for the launchers)."""
    import h11

    if h11 is not httpwire.http11 or h11.Connection.__module__ != "httpwire.http11._connection":
        raise RuntimeError(f"h11 is not the shim: {h11!r}")


def setup(real_h11: bool) -> None:
    """For the launchers: install and check the shim, unless ``real_h11`` (then do nothing)."""
    if not real_h11:
        install()
        check()
