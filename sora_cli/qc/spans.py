"""The picture measures of a film, span by span, kept by content so that what did not change is not decoded again.

A span is a keyframe and the frames after it up to the next keyframe (or the
end of a file's range). When every keyframe of an H.264 stream without
B-frames is an IDR frame, a span decodes on its own to the same pixels it has
in the whole stream, so its measures (:class:`sora_cli.qc.measure.Measured`)
depend only on its packets: they are stored under the digest of the stream's
parameters, the measured ranges and the span's packet bytes. A film stitched
from cached shot files by stream copy holds the same spans as the shot files
(each segment starts at a keyframe), so a re-render after a one-shot edit
decodes only that shot's spans and the transitions around it, and the shot
files can be measured while the rest of the film is still being drawn
(:func:`measure_range`). Any stream this does not hold for returns ``None``:
the caller decodes the film whole.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import av
import numpy as np

from sora_cli import npz
from sora_cli.atomic import atomic_path
from sora_cli.digests import discard, seal, verified
from sora_cli.qc.measure import GRID, CellSink, Measured

VERSION = 2  # bump when what a span's measures mean changes
IDR = 5  # H.264 NAL unit type of an IDR slice


class _NotSpans(Exception):
    """The stream cannot be cut into independent spans (the caller decodes it whole)."""


def _nal_types(data: bytes, length_size: int) -> Iterator[int]:
    at = 0
    while at + length_size <= len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        at += length_size
        if size == 0 or at + size > len(data):
            return
        yield data[at] & 0x1F
        at += size


def _base(stream: av.video.stream.VideoStream, ranges: tuple[tuple[int, int], tuple[int, int]]) -> tuple[bytes, int]:
    """What every span's digest starts with, and the NAL length size; raises :class:`_NotSpans`."""
    ctx = stream.codec_context
    extradata = bytes(ctx.extradata or b"")
    if ctx.name != "h264" or ctx.has_b_frames or len(extradata) < 7 or extradata[0] != 1:
        raise _NotSpans
    head = repr(("qc-span", VERSION, ctx.name, ctx.width, ctx.height, str(ctx.pix_fmt), ranges, GRID)).encode()
    return head + extradata, (extradata[4] & 3) + 1


def _runs(packets: Iterable[av.Packet], length_size: int) -> Iterator[list[av.Packet]]:
    """The packets cut before every keyframe; raises :class:`_NotSpans` if a keyframe is not an IDR frame."""
    run: list[av.Packet] = []
    last_pts: int | None = None
    for packet in packets:
        if packet.pts is None or (last_pts is not None and packet.pts <= last_pts) or packet.dts != packet.pts:
            raise _NotSpans
        last_pts = packet.pts
        if packet.is_keyframe:
            if IDR not in _nal_types(bytes(packet), length_size):
                raise _NotSpans
            if run:
                yield run
            run = []
        elif not run:
            raise _NotSpans  # the first packet must be a keyframe
        run.append(packet)
    if run:
        yield run


def _digest(base: bytes, run: list[av.Packet]) -> str:
    h = hashlib.sha256(base)
    for packet in run:
        data = bytes(packet)
        h.update(f"{len(data)}|{int(packet.is_keyframe)}|".encode())
        h.update(data)
    return h.hexdigest()


def _entry(cache: Path, digest: str) -> Path:
    return cache / digest[:2] / f"{digest}.npz"


def _packed(planes: np.ndarray) -> np.ndarray:
    """uint8 planes deflated at zlib's fastest level (flat-shaded frames shrink ~10x; the default level costs 2.5x
    the time for 15% less)."""
    return np.frombuffer(zlib.compress(np.ascontiguousarray(planes).tobytes(), 1), np.uint8)


#: the largest array a stored span may unpack to (a 4096x2160 luma plane is 8.8 MB; cells far less)
MAX_UNPACKED = 1 << 28


def _unpacked(data: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Inflate a stored plane, never past the size its shape says (a forged entry cannot balloon memory)."""
    dims = tuple(int(d) for d in shape.tolist())
    size = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if any(d < 0 for d in dims) or size > MAX_UNPACKED:
        raise ValueError(f"a stored array of shape {dims} is out of bounds")
    inflate = zlib.decompressobj()
    raw = inflate.decompress(data.tobytes(), size + 1)
    if len(raw) != size or inflate.unconsumed_tail:
        raise ValueError("a stored array does not match its shape")
    return np.frombuffer(raw, np.uint8).reshape(dims)


class _Luma:
    """A stored span's edge luma, inflated only as far down as its rows are read.

    Joining spans compares a span's first frame with the frame before it band by band
    (:func:`sora_cli.qc.measure.repeats`), and a moving picture is told apart in the
    first band: inflating the rest (24 MB for the bench film's 13 spans, 40% of the
    checks' final pass when every span is cached) was for nothing. An entry whose luma
    turns out shorter or longer than its shape is discarded where that shows, and the
    film is measured whole (:class:`_NotSpans`): never a crash, never a pass.
    """

    def __init__(self, path: Path, data: np.ndarray, shape: np.ndarray):
        dims = tuple(int(d) for d in shape.tolist())
        if len(dims) != 2 or min(dims) < 1 or dims[0] * dims[1] > MAX_UNPACKED:
            raise ValueError(f"a stored luma of shape {dims} is out of bounds")
        self.shape, self.size = dims, dims[0] * dims[1]
        self._path, self._tail, self._inflate = path, data.tobytes(), zlib.decompressobj()
        self._plane, self._have = np.empty(dims, np.uint8), 0

    def __getitem__(self, rows: slice) -> np.ndarray:
        height, width = self.shape
        want = min(height, height if rows.stop is None else rows.stop) * width
        try:
            while self._have < want:
                raw = self._inflate.decompress(self._tail, want - self._have)
                self._tail = self._inflate.unconsumed_tail
                if not raw:
                    raise ValueError("a stored luma is shorter than its shape")
                self._plane.reshape(-1)[self._have : self._have + len(raw)] = np.frombuffer(raw, np.uint8)
                self._have += len(raw)
            if self._have == self.size and (self._tail or self._inflate.decompress(b"", 1)):
                raise ValueError("a stored luma is longer than its shape")
        except (ValueError, zlib.error) as exc:
            discard(self._path, f"cannot be read ({exc})")
            raise _NotSpans from exc
        return self._plane[rows]


def _load(path: Path) -> Measured | None:
    """A stored span's measures; None (a miss) unless sealed by this user and whole and consistent."""
    if not verified(path, keyed=True):
        return None
    try:
        with npz.opened(path) as data:  # each array read once: a read parses its header anew
            black, frozen, share, interlaced = data["black"], data["frozen"], data["share"], data["interlaced"]
            frames = len(black)
            cells = _unpacked(data["cells"], data["cells_shape"])
            luma_shape = data["luma_shape"]
            first, last = _Luma(path, data["first"], luma_shape), _Luma(path, data["last"], luma_shape)
            columns = (frozen, share, interlaced)
            if (
                frames == 0
                or any(len(c) != frames for c in columns)
                or len(cells) not in (0, frames)
                or not np.all((share >= 0) & (share <= 1))
            ):
                raise ValueError("its measures do not fit together")
            return Measured(
                times=[0.0] * frames,
                black=black.astype(bool).tolist(),
                frozen=frozen.astype(bool).tolist(),
                share=share.astype(float).tolist(),
                interlaced=interlaced.astype(bool).tolist(),
                cells=list(cells),
                first=first,  # type: ignore[arg-type]  # read as a plane: by rows, shape and size
                last=last,  # type: ignore[arg-type]
            )
    except (OSError, ValueError, KeyError, TypeError, MemoryError, zlib.error, zipfile.BadZipFile) as exc:
        discard(path, f"cannot be read ({exc})")
        return None


def _store(path: Path, m: Measured) -> None:
    assert m.first is not None and m.last is not None
    cells = np.stack(m.cells) if m.cells else np.zeros((0, 3, 1, 1), np.uint8)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        black=np.asarray(m.black, bool),
        frozen=np.asarray(m.frozen, bool),
        share=np.asarray(m.share, np.float64),
        interlaced=np.asarray(m.interlaced, bool),
        cells=_packed(cells),
        cells_shape=np.asarray(cells.shape),
        first=_packed(m.first),
        last=_packed(m.last),
        luma_shape=np.asarray(m.first.shape),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    seal(path, keyed=True)


def _decoder(stream: av.video.stream.VideoStream, threads: bool) -> av.CodecContext:
    ctx = av.CodecContext.create(stream.codec_context.name, "r")
    ctx.extradata = stream.codec_context.extradata
    if threads:
        ctx.thread_type = "AUTO"
    return ctx


def _decode(
    ctx: av.CodecContext,
    run: list[av.Packet],
    ranges: tuple[tuple[int, int], tuple[int, int]],
) -> Measured:
    """Measure one span (an IDR frame needs nothing before it), frame by frame as they are decoded.

    ``ctx`` is drained and flushed after the span, so one decoder (and its threads) serves
    every span of a film: a decoder per span made new threads each time, and the memory
    their allocations left behind grew with the film's length.
    """
    measured = Measured()
    try:
        for packet in [*run, None]:
            for frame in ctx.decode(packet):
                measured.add(frame, 0.0, *ranges)
    finally:
        ctx.flush_buffers()
    if measured.frames != len(run):
        raise _NotSpans
    return measured


def _spans(
    stream: av.video.stream.VideoStream,
    packets: Iterable[av.Packet],
    ranges: tuple[tuple[int, int], tuple[int, int]],
    cache: Path,
    threads: bool,
) -> Iterator[tuple[list[av.Packet], Measured]]:
    base, length_size = _base(stream, ranges)
    ctx: av.CodecContext | None = None
    for run in _runs(packets, length_size):
        path = _entry(cache, _digest(base, run))
        measured = _load(path)
        if measured is not None and measured.frames != len(run):  # sealed by us, but not this span's measures
            discard(path, "holds another number of frames than its span")
            measured = None
        if measured is None:
            ctx = ctx or _decoder(stream, threads)
            measured = _decode(ctx, run, ranges)
            _store(path, measured)
        yield run, measured


def measure_film(
    film: Path, ranges: tuple[tuple[int, int], tuple[int, int]], cache: Path, sink: CellSink | None = None
) -> tuple[Measured, float] | None:
    """The film's picture measures and its last frame's time, through the span cache; ``None``: decode it whole.

    ``sink``: takes the frames' cells, in film order, instead of the measures keeping them (see
    :class:`Measured`); after ``None``, it may have had some: the caller starts it afresh.
    """
    try:
        with av.open(str(film)) as container:
            stream = container.streams.video[0]
            whole = Measured(sink=sink)
            last_t = 0.0
            packets = (p for p in container.demux(stream) if p.size)
            for run, measured in _spans(stream, packets, ranges, cache, threads=True):
                measured.times = [float(p.pts * stream.time_base) for p in run]
                last_t = measured.times[-1]
                whole.extend(measured)
            return whole, last_t
    except (_NotSpans, av.FFmpegError):
        return None


def measure_range(
    path: Path,
    first: int,
    last: int,
    ranges: tuple[tuple[int, int], tuple[int, int]],
    cache: Path,
    stop: Callable[[], bool] = lambda: False,
) -> bool:
    """Measure frames ``[first, last)`` of a shot file into the span cache, as a film that copies them holds them.

    A render calls this for each shot as it is finished, so the checks of the
    whole film find most of its spans measured. A file that cannot be cut into
    spans is left to the film's own pass; so are the spans after ``stop()`` turns true
    (then it returns False: not all measured).
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets = itertools.islice((p for p in container.demux(stream) if p.size), first, last)
            for _ in _spans(stream, packets, ranges, cache, threads=False):
                if stop():
                    return False
    except (_NotSpans, av.FFmpegError, OSError):
        pass
    return True
