"""Voicemail audio to MP3 with pydub, for browsers that cannot play GSM 6.10 WAV.

pydub runs ffmpeg. The ffmpeg on ``PATH`` is used when there is one (or the one named by
``INTAKE_FFMPEG``); otherwise the static build shipped in the ``imageio-ffmpeg`` wheel,
so no system package is needed. That build has no ``ffprobe``, which pydub calls to
guess an input's codec, so the container and codec are read here from the file's own
header and handed to ``AudioSegment.from_file``: pydub then never probes.
"""

from __future__ import annotations

import io
import shutil
import struct
import warnings
from dataclasses import dataclass
from functools import cache

with warnings.catch_warnings():
    # pydub warns at import time when no ffmpeg is on PATH; we point it at one below.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

MP3_BITRATE = "32k"  # plenty for 8 kHz telephone speech
# Bounds on what one voicemail may cost a worker: decoding stops after an hour (a 50 MB
# MP3 could otherwise expand to gigabytes of PCM), and the MP3 is mono speech quality.
MAX_SECONDS = 3600
MAX_FRAME_RATE = 16_000

# WAVE format tags (RFC 2361) → ffmpeg decoder names.
WAV_CODECS = {
    0x0001: None,  # PCM: decoded by pydub itself, codec chosen by sample width
    0x0003: "pcm_f32le",
    0x0006: "pcm_alaw",
    0x0007: "pcm_mulaw",
    0x0011: "adpcm_ima_wav",
    0x0002: "adpcm_ms",
    0x0031: "gsm_ms",  # GSM 6.10 as telephony systems write it
    0x0055: "mp3",
}
PCM_CODECS = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}


class AudioError(Exception):
    """The bytes are not audio this module can decode (the reason is the message)."""


@dataclass(frozen=True)
class Transcoded:
    mp3: bytes
    duration_seconds: int


@cache
def ffmpeg_path(configured: str = "") -> str:
    """The ffmpeg to run: ``configured``, else the system's, else imageio-ffmpeg's."""
    if configured:
        return configured
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def transcode(data: bytes, ffmpeg: str = "") -> Transcoded:
    """MP3 bytes and whole-second duration of ``data``; raises ``AudioError``."""
    segment = decode(data, ffmpeg).set_channels(1)
    if segment.frame_rate > MAX_FRAME_RATE:
        segment = segment.set_frame_rate(MAX_FRAME_RATE)
    out = io.BytesIO()
    segment.export(out, format="mp3", bitrate=MP3_BITRATE)
    return Transcoded(out.getvalue(), duration_of(segment))


def decode(data: bytes, ffmpeg: str = "") -> AudioSegment:
    """``data`` (its first ``MAX_SECONDS``) as a pydub segment, without ffprobe; raises
    ``AudioError``."""
    container, codec = sniff(data)
    AudioSegment.converter = ffmpeg_path(ffmpeg)
    try:
        segment = AudioSegment.from_file(
            io.BytesIO(data), format=container, codec=codec, duration=MAX_SECONDS
        )
    except CouldntDecodeError as exc:
        raise AudioError(f"cannot decode {container}/{codec}: {_last_line(exc)}") from None
    if len(segment) == 0:
        raise AudioError("the audio has no samples")
    return segment


def duration_of(segment: AudioSegment) -> int:
    """Whole seconds, rounded half up (a 41.5 s message shows as 0:42)."""
    return int(len(segment) / 1000 + 0.5)


def sniff(data: bytes) -> tuple[str, str | None]:
    """``(container, ffmpeg codec)`` from the header; raises ``AudioError``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav", _wav_codec(data)
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3", "mp3"
    raise AudioError("not a WAV or MP3 file")


def _wav_codec(data: bytes) -> str | None:
    fmt = _chunk(data, b"fmt ")
    if fmt is None or len(fmt) < 16:
        raise AudioError("WAV file without a format chunk")
    tag, _, _, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag is in the GUID
        tag = struct.unpack("<H", fmt[24:26])[0]
    if tag not in WAV_CODECS:
        raise AudioError(f"unsupported WAV format tag 0x{tag:04x}")
    if tag == 0x0001:
        return PCM_CODECS.get(bits) or _unsupported_bits(bits)
    return WAV_CODECS[tag]


def _unsupported_bits(bits: int) -> str:
    raise AudioError(f"unsupported PCM sample width {bits}")


def _chunk(data: bytes, wanted: bytes) -> bytes | None:
    """The body of the first RIFF chunk named ``wanted``, or ``None``."""
    offset = 12
    while offset + 8 <= len(data):
        name, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if name == wanted:
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size & 1)
    return None


def _last_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"
