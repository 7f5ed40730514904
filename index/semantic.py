"""Sentence vectors for entries and queries: the model, the text we embed, the cache.

The model is optional (fastembed over onnxruntime, the ``semantic`` extra). Getting it
must never hang or raise: a local directory loads directly; a hub name loads from the
data dir's model cache, or is downloaded only when the hub answers within a few
seconds; anything else ("none", fastembed missing, no network) is lexical search, said
once in the log. Vectors are cached on disk keyed by a hash of the embedded text, so a
rebuild or a re-indexed list embeds only texts the cache has never seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.model import Entry

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "VectorCache",
    "embedding_text",
    "load_embedder",
    "text_key",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TEXT_VERSION = 1
"""Bump when ``embedding_text`` changes: every key changes with it."""
DESCRIPTION_CHARS = 80
"""The start of a description says what an entry is; every token costs embedding time
(measured on 2 cores: 185 texts/s for title + section, 86/s with 100 characters of
description, 66/s with 240), and the haystack has 50k entries."""
HUB_HOST = ("huggingface.co", 443)
PROBE_SECONDS = 3.0
BATCH = 64
BULK_THREADS = 2
"""onnxruntime threads for a foreground bulk embedding (int8 MiniLM: 221 texts/s on one
thread, 345/s on two; batches of 32, 128 or 256 were slower than 64)."""
_MODEL_FILES = ("onnx/model.onnx", "model.onnx", "onnx/model_optimized.onnx", "model_optimized.onnx")
_REGISTER = threading.Lock()
QUANTISE_NAMED = frozenset({"sentence-transformers/all-MiniLM-L6-v2"})
"""Hub models whose fastembed copy is float32 and mean-pooled (what a local model is
registered as): the others are already quantised or pool differently."""


def embedding_text(occurrences: Sequence[Entry]) -> str:
    """What a document says about itself: title, section path, tags, start of description.

    The first occurrence speaks for the document (it is what replies show); the other
    lists' section names are added because they say where else it belongs.
    """
    first = occurrences[0]
    sections: dict[str, None] = {}
    for entry in occurrences:
        for part in entry.section[-2:]:
            sections.setdefault(part.strip(), None)
    tags = dict.fromkeys(tag for entry in occurrences for tag in entry.tags)
    description = " ".join(first.description.split())[:DESCRIPTION_CHARS]
    parts = [first.title.strip(), " / ".join(s for s in sections if s), ", ".join(tags), description]
    return ". ".join(part for part in parts if part)


def text_key(text: str) -> int:
    """A 63-bit key of an embedded text (fits Whoosh's signed numeric column)."""
    digest = hashlib.blake2b(f"{TEXT_VERSION}\0{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


class Embedder:
    """A loaded model: texts in, L2-normalised float32 rows out.

    ``variant`` names a transformed copy of the model ("int8"): its vectors differ a
    little from the original's, so they get a cache of their own (``slug``). ``reload``
    makes the same model with another thread count, for ``bulk`` embedding.
    """

    def __init__(self, model: Any, name: str, dim: int, variant: str = "",
                 reload: Callable[[int | None], Any] | None = None) -> None:
        self._model = model
        self.name = name
        self.dim = dim
        self.variant = variant
        self._reload = reload
        self._bulk: Any = None
        self.embedded = 0
        """Texts embedded so far (tests count what an update really embedded)."""

    @property
    def slug(self) -> str:
        """The vector cache's directory name: one per model and variant."""
        return model_slug(self.name) + (f"-{self.variant}" if self.variant else "")

    def embed(self, texts: Sequence[str], batch_size: int = BATCH, bulk: bool = False, ordered: bool = False) -> np.ndarray:
        """Rows for ``texts``; ``bulk`` uses every core (a foreground ``medbot index``);
        ``ordered``: the texts already come by token count (a pass ordered them all)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model
        if bulk and self._reload is not None and (os.cpu_count() or 1) > 1:
            if self._bulk is None:
                self._bulk = self._reload(min(os.cpu_count() or 1, BULK_THREADS))
            model = self._bulk
        # Batches pad to their longest text: texts of like length together embed faster.
        if ordered:
            order = list(range(len(texts)))
        else:
            lengths = self.token_counts(texts)
            order = sorted(range(len(texts)), key=lengths.__getitem__)
        rows = np.asarray(list(model.embed([texts[i] for i in order], batch_size=batch_size)), dtype=np.float32)
        self.embedded += len(texts)
        result = np.empty_like(rows)
        result[order] = rows
        return _normalised(result)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in the model's tokens (in characters if its tokenizer is out
        of reach). A batch is padded to its longest text; ordering by characters left 44%
        of the haystack's batch tokens padding (Chinese and URLs have many tokens per
        character), ordering by tokens 0.2%."""
        tokenizer = getattr(getattr(self._model, "model", None), "tokenizer", None)
        if tokenizer is not None:
            try:  # a slice at a time: the encodings of 50k texts at once held 700 MB
                return [
                    sum(encoding.attention_mask)
                    for start in range(0, len(texts), 256)
                    for encoding in tokenizer.encode_batch(list(texts[start : start + 256]))
                ]
            except Exception:  # noqa: BLE001 - a tokenizer we do not know: order by characters
                log.debug("semantic search: ordering texts by characters", exc_info=True)
        return [len(text) for text in texts]

    def release_bulk(self) -> None:
        """Drop the many-thread session (its memory) once a bulk embedding is done."""
        self._bulk = None

    def embed_query(self, text: str) -> np.ndarray:
        row: np.ndarray = self.embed([text])[0]
        return row


def _normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scaled: np.ndarray = rows / norms
    return scaled


def model_slug(spec: str) -> str:
    """A directory name for a model's vectors: the same model, the same cache."""
    path = Path(spec).expanduser()
    base = path.resolve().name if path.is_dir() else spec
    digest = hashlib.blake2s(str(path.resolve() if path.is_dir() else spec).encode(), digest_size=4).hexdigest()
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in base)[:60] + "-" + digest


def load_embedder(spec: str | None, cache_dir: Path, *, threads: int | None = None,
                  probe: Callable[[], bool] | None = None, quantise: bool = True) -> Embedder | None:
    """The model named by ``spec``, or None (lexical search) with one log line saying why.

    A local model directory is used through its int8 copy (``semantic_quant``) unless
    ``quantise`` is false or the copy cannot be made.
    """
    if not spec or spec.strip().lower() in {"none", "off", "false", "0"}:
        return None
    # bound every hub request a download makes (read by huggingface_hub at import)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")
    try:
        import fastembed  # noqa: F401
    except ImportError:
        log.warning("semantic search off: fastembed is not installed (pip install 'medbot[semantic]')")
        return None
    path = Path(spec).expanduser()
    try:
        if path.is_dir():
            return _load_local(path, threads, cache_dir if quantise else None)
        return _load_named(spec, cache_dir, threads, probe or _hub_reachable, quantise)
    except Exception as exc:  # noqa: BLE001 - any failure means lexical search, never a crash
        log.warning("semantic search off: model %r could not be loaded (%s: %s)", spec, type(exc).__name__, exc)
        return None


def _load_local(path: Path, threads: int | None, quantised_dir: Path | None, name: str = "") -> Embedder | None:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    from index.semantic_quant import quantised_copy

    model_file = next((name for name in _MODEL_FILES if (path / name).is_file()), None)
    if model_file is None:
        log.warning("semantic search off: no ONNX model file in %s (looked for %s)", path, ", ".join(_MODEL_FILES))
        return None
    config = _read_json(path / "config.json")
    dim = int(config.get("hidden_size") or config.get("dim") or 384)
    spec_name = name or str(path)
    variant = ""
    if quantised_dir is not None:
        copy = quantised_copy(path, model_file, quantised_dir)
        if copy is not None:
            path, model_file, variant = copy, "onnx/model.onnx", "int8"
    name = f"local/{model_slug(str(path))}"
    with _REGISTER:
        known = {item["model"] for item in TextEmbedding.list_supported_models()}
        if name not in known:
            TextEmbedding.add_custom_model(
                model=name, pooling=PoolingType.MEAN, normalization=True,
                sources=ModelSource(hf=f"local/{path.name}"), dim=dim, model_file=model_file,
            )

    def load(count: int | None) -> Any:
        return TextEmbedding(model_name=name, specific_model_path=str(path), threads=count)

    return Embedder(load(threads), spec_name, dim, variant, load)


def _load_named(spec: str, cache_dir: Path, threads: int | None, probe: Callable[[], bool],
                quantise: bool) -> Embedder | None:
    from fastembed import TextEmbedding

    supported = {item["model"]: item for item in TextEmbedding.list_supported_models()}
    if spec not in supported:
        log.warning("semantic search off: %r is neither a model directory nor a model fastembed knows", spec)
        return None
    dim = int(supported[spec].get("dim") or 384)
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        model = TextEmbedding(model_name=spec, cache_dir=str(cache_dir), threads=threads, local_files_only=True)
        return _named_int8(model, spec, threads, cache_dir, quantise) or Embedder(model, spec, dim)
    except Exception:  # noqa: BLE001 - not cached yet: try the hub below
        pass
    if not probe():
        log.warning("semantic search off: model %r is not in %s and the model hub is unreachable", spec, cache_dir)
        return None
    log.info("downloading model %s into %s", spec, cache_dir)
    model = TextEmbedding(model_name=spec, cache_dir=str(cache_dir), threads=threads)
    return _named_int8(model, spec, threads, cache_dir, quantise) or Embedder(model, spec, dim)


def _named_int8(model: Any, spec: str, threads: int | None, cache_dir: Path, quantise: bool) -> Embedder | None:
    """The int8 copy of a downloaded float32 model fastembed mean-pools (else None)."""
    model_dir = getattr(getattr(model, "model", None), "_model_dir", None)
    if not quantise or spec not in QUANTISE_NAMED or model_dir is None:
        return None
    try:
        embedder = _load_local(Path(model_dir), threads, cache_dir, name=spec)
    except Exception as exc:  # noqa: BLE001 - the float32 model still serves
        log.warning("semantic search: the float32 model is used (%s: %s)", type(exc).__name__, exc)
        return None
    return embedder if embedder is not None and embedder.variant else None


def _hub_reachable() -> bool:
    """Whether the model hub answers within a few seconds (a download would hang otherwise)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    try:
        with socket.create_connection(HUB_HOST, timeout=PROBE_SECONDS):
            return True
    except OSError:
        return False


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class VectorCache:
    """Vectors by text key, as two arrays on disk (``keys.npy`` sorted, ``vectors.npy``).

    Loaded memory-mapped, so looking up a document's vector touches only its rows; saved
    by writing new files and renaming them over the old ones (a reader never sees half).
    """

    def __init__(self, directory: Path, dim: int) -> None:
        self.directory = directory
        self.dim = dim
        self.keys = np.zeros(0, dtype=np.int64)
        self.vectors: np.ndarray = np.zeros((0, dim), dtype=np.float32)
        self._load()

    def _load(self) -> None:
        try:
            keys = np.load(self.directory / "keys.npy")
            vectors = np.load(self.directory / "vectors.npy", mmap_mode="r")
        except (OSError, ValueError):
            return
        if keys.ndim == 1 and vectors.ndim == 2 and len(keys) == len(vectors) and vectors.shape[1] == self.dim:
            self.keys, self.vectors = keys.astype(np.int64), vectors

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row in the cache, or -1."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.searchsorted(self.keys, keys)
        at[at >= len(self.keys)] = 0
        return np.where(self.keys[at] == keys, at, -1)

    def missing(self, keys: Iterable[int]) -> list[int]:
        wanted = np.unique(np.fromiter(keys, dtype=np.int64))
        return [int(k) for k in wanted[self.find(wanted) < 0]]

    def add(self, keys: Sequence[int], vectors: np.ndarray, keep: np.ndarray | None = None) -> None:
        """Store new vectors (and drop keys not in ``keep``, when given) and save."""
        all_keys = np.concatenate([self.keys, np.asarray(keys, dtype=np.int64)])
        all_vectors = np.concatenate([self.vectors, vectors.astype(np.float32)])
        if keep is not None:
            wanted = np.isin(all_keys, keep)
            all_keys, all_vectors = all_keys[wanted], all_vectors[wanted]
        all_keys, first = np.unique(all_keys, return_index=True)
        self.keys, self.vectors = all_keys, np.ascontiguousarray(all_vectors[first])
        self._save()

    def _save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        suffix = f".{os.getpid()}.{threading.get_ident()}.tmp.npy"
        for name, array in (("vectors", self.vectors), ("keys", self.keys)):
            tmp = self.directory / f"{name}{suffix}"
            np.save(tmp, array)
            os.replace(tmp, self.directory / f"{name}.npy")
