"""A gentle hold sound, synthesised once per process: soft chimes with long silences."""

from __future__ import annotations

import functools
import io
import math
import struct
import wave

SAMPLE_RATE = 8000
SECONDS = 20
# A calm major triad, one note every few seconds, quiet: a sign the line is alive, not music.
NOTES_HZ = (523.25, 659.25, 783.99, 659.25)
NOTE_SECONDS = 1.2
NOTE_EVERY_SECONDS = 5.0
VOLUME = 0.18


@functools.cache
def hold_wav() -> bytes:
    frames = bytearray()
    for i in range(SAMPLE_RATE * SECONDS):
        t = i / SAMPLE_RATE
        slot = int(t // NOTE_EVERY_SECONDS)
        into = t - slot * NOTE_EVERY_SECONDS
        sample = 0.0
        if into < NOTE_SECONDS:
            envelope = math.exp(-3.0 * into)  # a bell-like fade
            sample = VOLUME * envelope * math.sin(2 * math.pi * NOTES_HZ[slot % len(NOTES_HZ)] * t)
        frames += struct.pack("<h", int(sample * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
