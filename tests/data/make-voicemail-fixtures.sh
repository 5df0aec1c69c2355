#!/usr/bin/env bash
# How the voicemail audio fixtures were made (run once; the small files are committed).
# Needs sox (GSM 6.10 encoder: imageio-ffmpeg's ffmpeg decodes GSM but cannot encode it).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg=$(python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())")

# 7 s of a warbling sweep, 8 kHz mono, GSM 6.10 in WAV as telephony systems send it.
sox -n -r 8000 -c 1 -b 16 "$tmp/speech.wav" synth 7 sine 300-900 tremolo 4 60 vol 0.6
sox "$tmp/speech.wav" -e gsm-full-rate voicemail-gsm-8khz.wav
# 1.5 s plain 16-bit PCM WAV.
sox -n -r 8000 -c 1 -b 16 -e signed-integer voicemail-pcm-8khz.wav synth 1.5 sine 440 vol 0.5
# 1 s A-law WAV (G.711, the other usual telephony encoding).
sox -n -r 8000 -c 1 -e a-law voicemail-alaw-8khz.wav synth 1 sine 500 vol 0.5
# 3 s MP3.
sox -n -r 8000 -c 1 -b 16 "$tmp/three.wav" synth 3 sine 600 vol 0.5
"$ffmpeg" -loglevel error -y -i "$tmp/three.wav" -codec:a libmp3lame -b:a 32k voicemail-8khz.mp3
# A GSM WAV whose header is cut after the format tag and followed by noise.
python - <<'PY'
import random
random.seed(7)
head = open("voicemail-gsm-8khz.wav", "rb").read()[:40]
open("voicemail-corrupt.wav", "wb").write(head + random.randbytes(3000))
PY
