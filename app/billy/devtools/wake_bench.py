"""`make bench-wake`: what the wake word costs and how well it hears, for each detector, side by side.

- CPU while idle-listening: the detector's CPU time per second of audio (percent of one core).
- Detections: each bundled phrase said by several synthetic voices (piper's joe, espeak-ng voices and speeds),
  clean and with noise at 10 dB SNR, one second of the same noise before and after.
- False activations per hour: an hour of speech without any wake word (licence texts read by espeak-ng voices
  and joe, with a little background noise), counted as a deployed Billy counts them (with the cooldown).
- Barge-in: "okay nabu" said by each voice while Billy talks, his voice as loud at the microphone as theirs
  (0 dB, 20 ms later than played, as a fish's own speaker), detected with and without the echo canceller;
  and the canceller's CPU while he talks.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import numpy as np

from billy.audio.devices import MIC_RATE
from billy.audio.echo_canceller import EchoCanceller
from billy.audio.pcm import read_wav, resample
from billy.devtools.synthetic_voices import espeak
from billy.hearing.wake_models import BUILTIN
from billy.hearing.wakeword import FRAME_SAMPLES, WakeWordDetector
from billy.models.fetch import fetch_model

LOG = logging.getLogger(__name__)
PHRASES = {"okay_nabu": "Okay Nabu.", "hey_jarvis": "Hey Jarvis.", "alexa": "Alexa.", "hey_mycroft": "Hey Mycroft."}
ESPEAK_VOICES = ("en-us", "en-us+m3", "en+f2", "en-gb+m7", "en-us+f4", "en-gb-x-rp")
SPEEDS = (140, 175)
NOISE_SNR_DB = 10
BACKGROUND_SNR_DB = 25
TEXTS = ("GPL-3", "Apache-2.0", "GFDL-1.3", "MPL-2.0", "LGPL-2.1")
COOLDOWN_S = 4.0
JOE = "en_US-joe-medium"
BILLY_SAYS = "Let me tell you about the river where I grew up, it was long and wide, and full of fish like me."
ECHO_DELAY_S = 0.02


def _noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Pink noise (power falling as 1/f, shaped in the frequency domain): closer to a room than white noise."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    pink = np.fft.irfft(spectrum, samples)
    return pink / (np.abs(pink).max() or 1)


def _mix(speech: np.ndarray, snr_db: float | None, rng: np.random.Generator, pad_s: float = 1.0) -> np.ndarray:
    pad = np.zeros(int(pad_s * MIC_RATE))
    signal = np.concatenate([pad, speech.astype(np.float64), pad])
    if snr_db is not None:
        noise = _noise(len(signal), rng)
        speech_power = np.mean(speech.astype(np.float64) ** 2)
        noise *= np.sqrt(speech_power / (np.mean(noise**2) * 10 ** (snr_db / 10)))
        signal = signal + noise
    return np.clip(signal, -32768, 32767).astype(np.int16)


class Voices:
    def __init__(self, models_dir: Path) -> None:
        from piper import PiperVoice

        fetch_model(JOE, models_dir / JOE, offline=True)
        self.joe = PiperVoice.load(models_dir / JOE / f"{JOE}.onnx")

    def all(self, text: str) -> dict[str, np.ndarray]:
        said = {"piper joe": self.say_joe(text)}
        for voice in ESPEAK_VOICES:
            for speed in SPEEDS:
                said[f"espeak {voice} {speed}wpm"] = self.say_espeak(text, voice, speed)
        return said

    def say_joe(self, text: str) -> np.ndarray:
        audio = b"".join(chunk.audio_int16_bytes for chunk in self.joe.synthesize(text))
        return resample(np.frombuffer(audio, "<i2"), self.joe.config.sample_rate, MIC_RATE)

    @staticmethod
    def say_espeak(text: str, voice: str, speed: int) -> np.ndarray:
        pcm = read_wav(espeak(text, voice, speed))
        return resample(pcm.samples, pcm.rate, MIC_RATE)


def _detections(detector: WakeWordDetector, audio: np.ndarray) -> tuple[int, float]:
    """(detections with the cooldown, CPU seconds used), fed frame by frame as the watcher does."""
    detector.reset()
    count, last = 0, -COOLDOWN_S
    started = time.process_time()
    for index in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        if detector.detect(audio[index : index + FRAME_SAMPLES].astype("<i2").tobytes()):
            at = index / MIC_RATE
            if at - last >= COOLDOWN_S:
                count, last = count + 1, at
    return count, time.process_time() - started


def _over_billy(phrase: np.ndarray, billy: np.ndarray, cancel: bool) -> tuple[np.ndarray, float]:
    """The microphone while Billy talks and someone says `phrase` 1.5 s in: as heard, or less his voice (with
    the CPU seconds the canceller used)."""
    length = max(len(billy), len(phrase) + int(1.5 * MIC_RATE)) + MIC_RATE
    played = np.zeros(length, np.float64)
    played[: len(billy)] = billy
    delay = int(ECHO_DELAY_S * MIC_RATE)
    heard = np.concatenate([np.zeros(delay), played[:-delay]])
    start = int(1.5 * MIC_RATE)
    heard[start : start + len(phrase)] += phrase
    heard = np.clip(heard, -32768, 32767).astype(np.int16)
    if not cancel:
        return heard, 0.0
    canceller, cleaned = EchoCanceller(FRAME_SAMPLES, MIC_RATE), []
    began = time.process_time()
    for index in range(0, length - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = slice(index, index + FRAME_SAMPLES)
        cleaned.append(canceller.cancel(heard[frame], played[frame].astype(np.int16)))
    return np.concatenate(cleaned), time.process_time() - began


def _barge_in(backend: str, phrases: dict[str, np.ndarray], billy: np.ndarray) -> dict:
    """Wake phrases said over Billy, detected as heard and after the canceller, at the same loudness as his."""
    row: dict = {"said": len(phrases), "detected_as_heard": 0, "detected_after_canceller": 0}
    detector, cpu, seconds = WakeWordDetector(backend, "okay_nabu"), 0.0, 0.0
    billy_power = np.mean(billy.astype(np.float64) ** 2)
    for audio in phrases.values():
        phrase = audio.astype(np.float64) * np.sqrt(billy_power / np.mean(audio.astype(np.float64) ** 2))
        for cancel, key in ((False, "detected_as_heard"), (True, "detected_after_canceller")):
            heard, used = _over_billy(phrase, billy, cancel)
            row[key] += min(1, _detections(detector, heard)[0])
            cpu, seconds = cpu + used, seconds + (len(heard) / MIC_RATE if cancel else 0)
    row["canceller_cpu_percent_of_one_core"] = round(100 * cpu / seconds, 2)
    return row


def _hour_of_speech(voices: Voices, seconds: float, rng: np.random.Generator) -> np.ndarray:
    text = " ".join(
        Path("/usr/share/common-licenses", name).read_text(errors="replace")
        for name in TEXTS
        if Path("/usr/share/common-licenses", name).is_file()
    )
    sentences = [s.strip() for s in re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", text)) if len(s.split()) >= 4]
    parts, total, index = [], 0, 0
    while total < seconds * MIC_RATE:
        sentence = sentences[index % len(sentences)][:400]
        if index % 4 == 0:
            speech = voices.say_joe(sentence)
        else:
            speech = voices.say_espeak(sentence, ESPEAK_VOICES[index % len(ESPEAK_VOICES)], SPEEDS[index % 2])
        parts.append(_mix(speech, BACKGROUND_SNR_DB, rng, pad_s=0.4))
        total += len(parts[-1])
        index += 1
    LOG.info("%.0f s of speech from %d sentences", total / MIC_RATE, index)
    return np.concatenate(parts)[: int(seconds * MIC_RATE)]


def run_wake_bench(
    out: Path, models_dir: Path, speech_seconds: float = 3600, own_model: Path | None = None, own_phrase: str = ""
) -> dict:
    """Every bundled model on both detectors; with `own_model` (an owner's uploaded model, as WAKE_WORD_MODEL
    names it) and the phrase it wakes on, that model too: detections, false activations/hour, CPU."""
    rng = np.random.default_rng(14)
    voices = Voices(models_dir)
    backends = tuple(BUILTIN)
    results: dict = {"backends": {}, "speech_seconds": speech_seconds}
    phrases = {model: voices.all(text) for model, text in PHRASES.items()}
    speech = _hour_of_speech(voices, speech_seconds, rng)
    billy = voices.say_joe(BILLY_SAYS)
    quiet = _mix(np.zeros(60 * MIC_RATE), None, rng, 0) + (_noise(60 * MIC_RATE, rng) * 30).astype(np.int16)
    for backend in backends:
        row: dict = {"detections": {}}
        _, cpu = _detections(WakeWordDetector(backend, "okay_nabu"), quiet)
        row["idle_cpu_percent_of_one_core"] = round(100 * cpu / 60, 2)
        for model, said in phrases.items():
            detector = WakeWordDetector(backend, model)
            hits = total = 0
            for audio in said.values():
                for snr in (None, NOISE_SNR_DB):
                    hits += min(1, _detections(detector, _mix(audio, snr, rng))[0])
                    total += 1
            row["detections"][model] = {"detected": hits, "said": total}
        detector = WakeWordDetector(backend, "okay_nabu")
        false, cpu = _detections(detector, speech)
        row["false_activations_per_hour"] = round(false * 3600 / speech_seconds, 2)
        row["speech_cpu_percent_of_one_core"] = round(100 * cpu / speech_seconds, 2)
        row["barge_in"] = _barge_in(backend, phrases["okay_nabu"], billy)
        results["backends"][backend] = row
        LOG.info("%s done", backend)
    if own_model is not None:
        results["own"] = _bench_own(own_model, own_phrase, voices, speech, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    _print(results, backends)
    if own_model is not None:
        own = results["own"]
        print(
            f"own model {own['model']} ({own['backend']}): detected {own['detected']}/{own['said']} "
            f"{own['phrase']!r} (clean + 10 dB noise), {own['false_activations_per_hour']} false activations/hour, "
            f"{own['speech_cpu_percent_of_one_core']} % of one core"
        )
    return results


def _bench_own(model: Path, phrase: str, voices: Voices, speech: np.ndarray, rng) -> dict:
    from billy.hearing.own_wake_words import backend_of

    backend = backend_of(model)
    detector = WakeWordDetector(backend, str(model))
    hits = total = 0
    for audio in voices.all(phrase).values():
        for snr in (None, NOISE_SNR_DB):
            hits += min(1, _detections(detector, _mix(audio, snr, rng))[0])
            total += 1
    false, cpu = _detections(detector, speech)
    seconds = len(speech) / MIC_RATE
    return {
        "model": model.name,
        "backend": backend,
        "phrase": phrase,
        "detected": hits,
        "said": total,
        "false_activations_per_hour": round(false * 3600 / seconds, 2),
        "speech_cpu_percent_of_one_core": round(100 * cpu / seconds, 2),
    }


def _print(results: dict, backends: tuple[str, ...]) -> None:
    rows = [("CPU idle-listening (% of one core)", "idle_cpu_percent_of_one_core")]
    print(f"{'':<44}" + "".join(f"{b:>16}" for b in backends))
    for label, key in rows:
        print(f"{label:<44}" + "".join(f"{results['backends'][b][key]:>16}" for b in backends))
    for model in PHRASES:
        cells = [results["backends"][b]["detections"][model] for b in backends]
        print(
            f"{'detected: ' + model + ' (clean + 10 dB noise)':<44}"
            + "".join(f"{c['detected']:>9}/{c['said']:<6}" for c in cells)
        )
    hours = results["speech_seconds"] / 3600
    label = f"false activations/hour (okay_nabu, {hours:.2g} h speech)"
    print(f"{label:<44}" + "".join(f"{results['backends'][b]['false_activations_per_hour']:>16}" for b in backends))
    barge_in = [results["backends"][b]["barge_in"] for b in backends]
    for label, key in (
        ("over Billy at 0 dB, as heard", "detected_as_heard"),
        ("... after the echo canceller", "detected_after_canceller"),
    ):
        print(f"{'detected: okay_nabu ' + label:<44}" + "".join(f"{c[key]:>9}/{c['said']:<6}" for c in barge_in))
    label = "echo canceller CPU while Billy talks (%)"
    print(f"{label:<44}" + "".join(f"{c['canceller_cpu_percent_of_one_core']:>16}" for c in barge_in))
