"""Lay an original Billy B-Assistant install folder (our own fixture, in its formats) on a test machine.

Standard library only: it runs with the machine's python3 before Billy's venv exists.
"""

import math
import struct
import sys
import wave
from pathlib import Path

root = Path(sys.argv[1])
(root / "personas" / "pirate").mkdir(parents=True)
(root / "custom_songs" / "tuna_tango").mkdir(parents=True)
(root / ".env").write_text(
    "LOG_LEVEL=INFO\nOPENAI_MODEL=gpt-4o-mini-realtime-preview\nMIC_TIMEOUT_SECONDS=5\nPORCUPINE_ACCESS_KEY=pv-key\n"
)
(root / "personas" / "pirate" / "persona.ini").write_text(
    "[PERSONALITY]\nhumor = 90\n\n[META]\nname = Captain Billy\nvoice = ballad\n"
    "instructions = You are Captain Billy, a pirate fish.\n"
)
(root / "custom_songs" / "tuna_tango" / "metadata.ini").write_text(
    "[SONG]\ntitle = Tuna Tango\nbpm = 120\ntail_threshold = 1500\nhead_moves = 0.5:0.5\n"
)
rate = 24000
for stem, hz in (("full", 220), ("vocals", 330), ("drums", 55)):
    with wave.open(str(root / "custom_songs" / "tuna_tango" / f"{stem}.wav"), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(rate))
        out.writeframes(b"".join(struct.pack("<hh", v, v) for v in frames))
