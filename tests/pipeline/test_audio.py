"""Audio to MP3 without ffprobe: the codec is read from the file's own header."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import audio
from tests.voicemails import audio as fixture
from tests.voicemails import decode_mp3


@pytest.mark.parametrize(
    ("name", "codec", "seconds"),
    [
        ("voicemail-gsm-8khz.wav", "gsm_ms", 7),
        ("voicemail-pcm-8khz.wav", "pcm_s16le", 2),
        ("voicemail-alaw-8khz.wav", "pcm_alaw", 1),
        ("voicemail-8khz.mp3", "mp3", 3),
    ],
)
def test_each_format_is_sniffed_and_transcoded_to_a_playable_mp3(name, codec, seconds):
    data = fixture(name)
    assert audio.sniff(data)[1] == codec
    result = audio.transcode(data)
    assert result.duration_seconds == seconds
    decoded = decode_mp3(result.mp3)
    assert abs(len(decoded) - seconds * 1000) < 600


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a WAV or MP3 file"),
        (b"%PDF-1.4", "not a WAV or MP3 file"),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00", "WAV file without a format chunk"),
        (fixture("voicemail-corrupt.wav"), "cannot decode wav/gsm_ms"),
    ],
)
def test_what_is_not_decodable_audio_raises_audio_error_with_the_reason(data, reason):
    with pytest.raises(audio.AudioError, match=reason):
        audio.transcode(data)


def test_a_configured_ffmpeg_wins_and_otherwise_one_is_always_found():
    assert audio.ffmpeg_path("/opt/ffmpeg/bin/ffmpeg") == "/opt/ffmpeg/bin/ffmpeg"
    assert "ffmpeg" in Path(audio.ffmpeg_path()).name


def test_music_quality_input_becomes_mono_speech_quality_mp3():
    from pydub.generators import Sine

    stereo = Sine(440).to_audio_segment(duration=1500).set_frame_rate(44_100).set_channels(2)
    wav = io.BytesIO()
    stereo.export(wav, format="wav")
    result = audio.transcode(wav.getvalue())
    decoded = decode_mp3(result.mp3)
    assert (decoded.channels, decoded.frame_rate) == (1, audio.MAX_FRAME_RATE)
    assert result.duration_seconds == 2


def test_decoding_stops_at_the_duration_bound(monkeypatch):
    monkeypatch.setattr(audio, "MAX_SECONDS", 2)
    assert audio.transcode(fixture("voicemail-gsm-8khz.wav")).duration_seconds == 2


# The child's own peak is VmHWM: getrusage's maxrss would carry over the RSS of the
# (forked) pytest process it was exec'ed from.
MEASURE_TRANSCODE = """
import json, re, resource, sys
from pathlib import Path
from pipeline import audio
result = audio.transcode(Path(sys.argv[1]).read_bytes())
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024
ffmpeg = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps([peak, ffmpeg, result.duration_seconds]))
"""


def test_a_long_stereo_mp3_is_transcoded_by_ffmpeg_while_the_worker_stays_small(tmp_path):
    """Ten minutes of 44.1 kHz stereo is 106 MB of PCM; decoding it in Python took the
    process to 425 MB (a one-hour file: 2.2 GB). ffmpeg now streams it in its own process."""
    clip = tmp_path / "clip.mp3"
    subprocess.run(
        [audio.ffmpeg_path(), "-nostdin", "-loglevel", "error", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=44100:duration=10", "-ac", "2",
         "-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", "-f", "mp3", str(clip)],
        check=True, timeout=60,
    )  # fmt: skip
    long_mp3 = tmp_path / "ten-minutes.mp3"
    long_mp3.write_bytes(clip.read_bytes() * 60)  # MP3 frames concatenate into one stream
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE_TRANSCODE, str(long_mp3)],
        cwd=Path(__file__).parents[2], capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    worker_mb, ffmpeg_mb, seconds = json.loads(measured.stdout)
    assert abs(seconds - 600) <= 3
    assert worker_mb < 60  # the attachment and the MP3, never the PCM
    assert ffmpeg_mb < 100
