"""Write the film: video, soundtrack and soft subtitles interleaved by time, in one pass.

Packets from each source are merged in time order as they are read, so
nothing holds a whole track in memory. Soft subtitles are mov_text samples we
build ourselves (a length and the UTF-8 text), muxed through a stream copied
from a one-cue template: ffmpeg's own conversions would interpret braces,
tags and entities, and a subtitle must show exactly what was written.
"""

from __future__ import annotations

import functools
import heapq
import io
import struct
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from sora_cli.assemble.subtitles import Cue
from sora_cli.ffmpeg import run_ffmpeg
from sora_cli.scratch import scratch_dir
from sora_cli.sound.hearing import carried

MUX_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}


@functools.cache
def _mov_text_template() -> bytes:
    """A one-cue MP4 whose mov_text stream is the template (made once, kept in memory, no file left)."""
    with tempfile.TemporaryDirectory(prefix="sora-movtext-", dir=scratch_dir()) as tmp:
        folder = Path(tmp)
        (folder / "one.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nx\n", encoding="utf-8")
        run_ffmpeg(
            ["-i", "one.srt", "-c:s", "mov_text", "-map_metadata", "-1", "-fflags", "+bitexact", "template.mp4"],
            "making a subtitle template",
            cwd=folder,
        )
        return (folder / "template.mp4").read_bytes()


def _subtitle_packets(cue_list: list[Cue]) -> Iterator[av.Packet]:
    for cue in cue_list:
        text = cue.text.encode("utf-8")
        packet = av.Packet(struct.pack(">H", len(text)) + text)
        packet.pts = packet.dts = round(cue.start * 1000)
        packet.duration = max(1, round(cue.end * 1000) - packet.pts)
        packet.time_base = Fraction(1, 1000)
        yield packet


def _audio_packets(path: Path, until: float) -> Iterator[av.Packet]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        yield from carried(container.demux(stream), stream, until)


def write_film(
    out_path: Path,
    video: Iterator[av.Packet],
    video_template: Path,
    audio: Path | None,
    duration: float,
    subtitles: list[Cue] | None,
    language: str = "eng",
) -> None:
    """Mux the sources into ``out_path`` (MP4, moov first)."""
    with av.open(str(out_path), "w", format="mp4", options=MUX_OPTIONS) as out, av.open(str(video_template)) as vt:
        sources: list[tuple[Iterator[av.Packet], av.stream.Stream]] = []
        v_out = out.add_stream_from_template(vt.streams.video[0])
        sources.append((video, v_out))
        audio_container = av.open(str(audio)) if audio else None
        try:
            if audio_container is not None:
                a_out = out.add_stream_from_template(audio_container.streams.audio[0])
                sources.append((_audio_packets(audio, duration), a_out))
            if subtitles:
                with av.open(io.BytesIO(_mov_text_template())) as st:
                    s_out = out.add_stream_from_template(st.streams.subtitles[0])
                s_out.metadata["language"] = language
                sources.append((_subtitle_packets(subtitles), s_out))
            for packet, stream in _by_time(sources):
                packet.stream = stream
                out.mux(packet)
        finally:
            if audio_container is not None:
                audio_container.close()


def _by_time(
    sources: list[tuple[Iterator[av.Packet], av.stream.Stream]],
) -> Iterator[tuple[av.Packet, av.stream.Stream]]:
    """Merge packet streams by decode time (each source is already in order)."""
    heap: list[tuple[float, int, av.Packet]] = []
    for n, (packets, _) in enumerate(sources):
        first = next(packets, None)
        if first is not None:
            heapq.heappush(heap, (_time(first), n, first))
    while heap:
        _, n, packet = heapq.heappop(heap)
        packets, stream = sources[n]
        yield packet, stream
        following = next(packets, None)
        if following is not None:
            heapq.heappush(heap, (_time(following), n, following))


def _time(packet: av.Packet) -> float:
    ts = packet.dts if packet.dts is not None else packet.pts
    return float(ts * packet.time_base) if ts is not None and packet.time_base else 0.0
