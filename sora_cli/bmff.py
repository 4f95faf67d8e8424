"""The top-level boxes of an ISO BMFF file (MP4, MOV), found without reading their bodies.

Provenance needs them (is there a C2PA box; the film's bytes without it) and so
does ``sora qc`` (is moov before mdat): one walk serves both, and it copes with
64-bit sizes, a last box that runs to the end of the file, and truncated files.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Box:
    kind: bytes  # the four-character type, e.g. b"moov"
    offset: int  # where the box starts in the file
    size: int  # its whole length, header included (to the end of the file for a size-0 box)
    usertype: bytes | None  # a ``uuid`` box's 16-byte extended type, else None


def top_level_boxes(fh: BinaryIO) -> Iterator[Box]:
    """Each top-level box in file order; a box too short to hold its own header ends the walk."""
    total = os.fstat(fh.fileno()).st_size
    offset = 0
    while offset + 8 <= total:
        fh.seek(offset)
        size, kind = struct.unpack(">I4s", fh.read(8))
        header = 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8:
                return
            size, header = struct.unpack(">Q", large)[0], 16
        elif size == 0:
            size = total - offset
        usertype = fh.read(16) if kind == b"uuid" else None
        yield Box(kind, offset, size, usertype)
        if size < header:
            return
        offset += size
