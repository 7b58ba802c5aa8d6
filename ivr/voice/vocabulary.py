"""The words a Vosk model can output, read without loading the model.

Vosk takes a grammar word by word from the model's symbol table and prints a warning for each
word it lacks, then silently drops it. Knowing the vocabulary up front lets the recognizer name
the missing words once and leave out phrases it could never produce. Models keep the table in
``graph/words.txt`` or, in compact lookahead models, only inside the OpenFst header of
``graph/Gr.fst``.
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path

_FST_MAGIC = 2125659606  # OpenFst binary FST header
_SYMTAB_MAGIC = 2125658996  # OpenFst binary symbol table
_HAS_ISYMBOLS = 0x1
_HAS_OSYMBOLS = 0x2

_cache: dict[str, frozenset[str] | None] = {}
_lock = threading.Lock()


class VocabularyFormatError(ValueError):
    """The file is not the OpenFst binary layout we know how to read."""


def read_words_txt(path: Path) -> frozenset[str]:
    words = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if parts:
                words.add(parts[0])
    return frozenset(words)


def read_fst_output_symbols(path: Path) -> frozenset[str]:
    """Parse the FST header and return its output symbol table (the words the graph emits)."""
    data = Path(path).read_bytes()
    off = 0

    def i32() -> int:
        nonlocal off
        if off + 4 > len(data):
            raise VocabularyFormatError("unexpected end of header")
        (v,) = struct.unpack_from("<i", data, off)
        off += 4
        return v

    def i64() -> int:
        nonlocal off
        if off + 8 > len(data):
            raise VocabularyFormatError("unexpected end of header")
        (v,) = struct.unpack_from("<q", data, off)
        off += 8
        return v

    def string() -> bytes:
        nonlocal off
        n = i32()
        if n < 0 or off + n > len(data):
            raise VocabularyFormatError("bad string length")
        v = data[off : off + n]
        off += n
        return v

    if i32() != _FST_MAGIC:
        raise VocabularyFormatError("not an OpenFst binary file")
    string()  # fst type, e.g. "vector", "const", "ngram"
    string()  # arc type
    i32()  # version
    flags = i32()
    off += 8  # properties (uint64)
    i64()  # start state
    i64()  # number of states
    i64()  # number of arcs

    def symbol_table() -> list[bytes]:
        nonlocal off
        if i32() != _SYMTAB_MAGIC:
            raise VocabularyFormatError("bad symbol table magic")
        string()  # table name
        i64()  # available key
        size = i64()
        if size < 0 or size > len(data):
            raise VocabularyFormatError("bad symbol table size")
        unpack = struct.unpack_from
        out = []
        for _ in range(size):
            (n,) = unpack("<i", data, off)
            off += 4
            out.append(data[off : off + n])
            off += n + 8  # symbol bytes, then its int64 key
        if off > len(data):
            raise VocabularyFormatError("symbol table runs past the end of file")
        return out

    if flags & _HAS_ISYMBOLS:
        isyms = symbol_table()
    else:
        isyms = None
    if flags & _HAS_OSYMBOLS:
        syms = symbol_table()
    elif isyms is not None:  # an acceptor may carry only one table
        syms = isyms
    else:
        raise VocabularyFormatError("no symbol table in the FST header")
    return frozenset(s.decode("utf-8", errors="replace") for s in syms)


def model_vocabulary(model_dir: str | Path) -> frozenset[str] | None:
    """The model's words, or None when the model carries no readable table (nothing to check)."""
    key = str(Path(model_dir).resolve())
    with _lock:
        if key in _cache:
            return _cache[key]
        root = Path(key)
        result: frozenset[str] | None = None
        for candidate in (root / "graph" / "words.txt", root / "words.txt"):
            if candidate.is_file():
                result = read_words_txt(candidate)
                break
        else:
            gr = root / "graph" / "Gr.fst"
            if gr.is_file():
                try:
                    result = read_fst_output_symbols(gr)
                except (VocabularyFormatError, OSError, struct.error):
                    result = None
        _cache[key] = result
        return result
