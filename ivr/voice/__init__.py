"""Voice layer: speech in (Vosk), speech out (pyttsx3/espeak-ng), audio files and devices.

Each concern is a small module behind a tiny interface, so pieces can be swapped or tested
alone: ``models`` (find/download/load Vosk models), ``audio`` (WAV in/out), ``stt``
(recognizer), ``sources`` (file or microphone audio, keypad), ``listen`` (one turn),
``tts`` and ``speakable`` (prompts), ``playback`` (players with barge-in), ``doctor`` and
``commands`` (what the CLI calls). Nothing here imports ``sounddevice`` at import time.
"""
