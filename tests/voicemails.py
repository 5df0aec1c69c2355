"""Voicemail notification mails built around the audio fixtures in ``tests/data``."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

DATA = Path(__file__).parent / "data"

FRENCH_BODY = (
    "Bonjour,\n\nNouveau message en provenance de +33606473979 sur votre ligne 33257578980.\n"
    "Vous trouverez le message vocal en pièce jointe.\n"
)


def audio(name: str) -> bytes:
    return (DATA / name).read_bytes()


def decode_mp3(data: bytes):
    """``data`` decoded by pydub (through the ffmpeg Intake uses), to check an MP3."""
    import io
    import warnings

    from pipeline.audio import ffmpeg_path

    with warnings.catch_warnings():  # pydub warns at import when no ffmpeg is on PATH
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_path()
    return AudioSegment.from_file(io.BytesIO(data), format="mp3", codec="mp3")


def voicemail_mail(
    audio_name: str | None = "voicemail-gsm-8khz.wav",
    *,
    subject: str = "Nouveau message vocal",
    body: str = FRENCH_BODY,
    sender: str = "messagerie@telephonie.example.fr",
    message_id: str = "<vm-1@telephonie.example.fr>",
) -> bytes:
    """A telephony notification with ``audio_name`` attached (none when ``None``)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(body)
    if audio_name:
        kind = "mpeg" if audio_name.endswith(".mp3") else "wav"
        mail.add_attachment(audio(audio_name), "audio", kind, filename=audio_name)
    return mail.as_bytes(policy=SMTP)
