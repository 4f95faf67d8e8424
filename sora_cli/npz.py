"""Array files (``.npz``) read from several threads of one process, safely.

numpy parses each array's header with ``ast.literal_eval``, and CPython 3.11
keeps the AST builder's recursion depth in state that every thread of the
interpreter shares (gh-106905): two threads reading arrays at once can end one
of them with ``SystemError: AST constructor recursion depth mismatch``. A
render reads its checks' cached measures from two threads (and the conductor
reads a shot's carry meanwhile), so every read of sora's goes through one lock:
the files are small and read whole, so the lock costs nothing measurable.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

LOCK = threading.Lock()


@contextlib.contextmanager
def opened(path: Path | str, **options: Any) -> Iterator[Any]:
    """``np.load(path)`` held under :data:`LOCK` until the block ends (its arrays are read lazily, inside it)."""
    with LOCK, np.load(path, **options) as data:
        yield data
