"""Voicemail audio to MP3, for browsers that cannot play GSM 6.10 WAV: one ffmpeg process.

ffmpeg decodes, downmixes, resamples and encodes in a stream, in its own process: the
worker never holds decoded PCM (a one-hour 44.1 kHz stereo MP3 is 635 MB of it, and going
through pydub's segments made a worker grow to 2.2 GB). What the worker holds is the
attachment and the small MP3. ffmpeg reads at most ``MAX_SECONDS`` of audio and is killed
after ``TIMEOUT_SECONDS``; the MP3 is mono at no more than 16 kHz and 32 kbit/s.

The ffmpeg on ``PATH`` is used when there is one (or the one named by ``INTAKE_FFMPEG``);
otherwise the static build shipped in the ``imageio-ffmpeg`` wheel, so no system package is
needed. That build has no ``ffprobe``, so the container and codec are read here from the
file's own header and named to ffmpeg.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MP3_BITRATE = "32k"  # plenty for 8 kHz telephone speech
MAX_SECONDS = 3600
# Rates the MP3 may have: ffmpeg keeps an input's rate when listed, else takes the nearest.
MP3_RATES = (8_000, 11_025, 12_000, 16_000)
MAX_FRAME_RATE = MP3_RATES[-1]
TIMEOUT_SECONDS = 300

# WAVE format tags (RFC 2361) → ffmpeg decoder names.
WAV_CODECS = {
    0x0001: None,  # PCM: the codec is chosen by sample width
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
    """MP3 bytes and whole-second duration of ``data`` (its first ``MAX_SECONDS``);
    raises ``AudioError``."""
    container, codec = sniff(data)
    with tempfile.TemporaryDirectory(prefix="intake-audio-") as folder:
        source, target = Path(folder) / f"in.{container}", Path(folder) / "out.mp3"
        source.write_bytes(data)
        command = ffmpeg_command(ffmpeg_path(ffmpeg), container, codec, source, target)
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise AudioError(f"ffmpeg took longer than {TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            reason = _last_line(done.stderr.decode("utf-8", "replace"))
            raise AudioError(f"cannot decode {container}/{codec}: {reason}")
        seconds = _encoded_seconds(done.stdout.decode("ascii", "replace"))
        mp3 = target.read_bytes() if target.exists() else b""
    if seconds <= 0 or not mp3:
        raise AudioError("the audio has no samples")
    return Transcoded(mp3, int(seconds + 0.5))  # rounded half up: 41.5 s shows as 0:42


def ffmpeg_command(
    ffmpeg: str, container: str, codec: str | None, source: Path, target: Path
) -> list[str]:
    """Decode ``source`` as ``container``/``codec`` (no probing), write mono MP3 to
    ``target``, and report progress (the encoded duration) on stdout."""
    rates = "|".join(str(rate) for rate in MP3_RATES)
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-threads", "1",
        "-f", container, *(["-acodec", codec] if codec else []), "-t", str(MAX_SECONDS),
        "-i", str(source),
        "-vn", "-sn", "-dn", "-map_metadata", "-1",
        "-af", f"aformat=channel_layouts=mono:sample_rates={rates}",
        "-codec:a", "libmp3lame", "-b:a", MP3_BITRATE, "-f", "mp3",
        "-progress", "pipe:1", "-y", str(target),
    ]  # fmt: skip


def _encoded_seconds(progress: str) -> float:
    """The last ``out_time_us`` ffmpeg reported: how much audio the MP3 holds."""
    micros = [
        line.partition("=")[2] for line in progress.splitlines() if line.startswith("out_time_us=")
    ]
    values = [int(value) for value in micros if value.strip().lstrip("-").isdigit()]
    return values[-1] / 1_000_000 if values else 0.0


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


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"
