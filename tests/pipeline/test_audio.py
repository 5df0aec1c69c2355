"""Audio to MP3 without ffprobe: the codec is read from the file's own header."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline import audio
from tests.voicemails import audio as fixture


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
    decoded = audio.AudioSegment.from_file(io.BytesIO(result.mp3), format="mp3", codec="mp3")
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
    decoded = audio.AudioSegment.from_file(io.BytesIO(result.mp3), format="mp3", codec="mp3")
    assert (decoded.channels, decoded.frame_rate) == (1, audio.MAX_FRAME_RATE)
    assert result.duration_seconds == 2


def test_decoding_stops_at_the_duration_bound(monkeypatch):
    monkeypatch.setattr(audio, "MAX_SECONDS", 2)
    assert audio.transcode(fixture("voicemail-gsm-8khz.wav")).duration_seconds == 2
