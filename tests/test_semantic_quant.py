"""The int8 copy of the sentence model: made once per model file, close to the original.

Real model (../shared/models/all-MiniLM-L6-v2), real onnxruntime quantiser; skipped when
the model, fastembed or the ``onnx`` package is absent.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from index.semantic import load_embedder
from index.semantic_quant import model_digest, quantised_copy
from tests.haystack import MODEL, model_available

try:
    import onnx  # noqa: F401

    HAVE_ONNX = True
except ImportError:
    HAVE_ONNX = False

needs_quantiser = pytest.mark.skipif(not (model_available() and HAVE_ONNX),
                                     reason="shared model, fastembed or onnx not available")

TEXTS = [
    "3D Context Enhanced Region-based CNN for lesion detection in CT",
    "Task-oriented Dialogue System for Automatic Diagnosis",
    "scanpy: single-cell analysis in Python",
    "a bot that talks to patients to work out what disease they have",
]


@needs_quantiser
def test_the_int8_copy_is_made_once_and_keyed_by_the_model_files_hash(tmp_path: Path) -> None:
    models = tmp_path / "models"
    first = load_embedder(str(MODEL), models, threads=1)
    assert first is not None and first.variant == "int8"
    copies = [path for path in models.iterdir() if not path.name.startswith(".")]
    assert len(copies) == 1
    assert copies[0].name.endswith(model_digest(MODEL / "onnx" / "model.onnx"))
    made = (copies[0] / "onnx" / "model.onnx").stat().st_mtime_ns
    assert (copies[0] / "onnx" / "model.onnx").stat().st_size < (MODEL / "onnx" / "model.onnx").stat().st_size / 3

    again = quantised_copy(MODEL, "onnx/model.onnx", models)
    assert again == copies[0]
    assert (again / "onnx" / "model.onnx").stat().st_mtime_ns == made  # reused, not made again


def test_a_changed_model_file_gets_a_new_key(tmp_path: Path) -> None:
    one, two = tmp_path / "a.onnx", tmp_path / "b.onnx"
    one.write_bytes(b"weights v1" * 1000)
    two.write_bytes(b"weights v2" * 1000)
    assert model_digest(one) != model_digest(two)
    assert model_digest(one) == model_digest(one)


@needs_quantiser
def test_int8_vectors_stay_close_to_the_original_models_and_keep_their_own_cache(tmp_path: Path) -> None:
    exact = load_embedder(str(MODEL), tmp_path / "models", threads=1, quantise=False)
    small = load_embedder(str(MODEL), tmp_path / "models", threads=1)
    assert exact is not None and small is not None
    assert exact.variant == "" and small.variant == "int8"
    assert exact.slug != small.slug  # the vectors differ a little: never mixed in one cache
    cosines = (exact.embed(TEXTS) * small.embed(TEXTS)).sum(axis=1)
    assert cosines.min() > 0.97, cosines
    # the nearest text of the paraphrase is the paper it describes, with either model
    for embedder in (exact, small):
        rows = embedder.embed(TEXTS)
        assert int(np.argmax(rows[:3] @ rows[3])) == 1


@needs_quantiser
def test_a_bulk_embedding_on_every_core_gives_the_same_vectors(tmp_path: Path) -> None:
    embedder = load_embedder(str(MODEL), tmp_path / "models", threads=1)
    assert embedder is not None
    single = embedder.embed(TEXTS)
    bulk = embedder.embed(TEXTS, bulk=True)
    embedder.release_bulk()
    assert np.allclose(single, bulk, atol=1e-4)
    assert embedder.embedded == 2 * len(TEXTS)


@pytest.mark.skipif(not model_available(), reason="shared model or fastembed not available")
def test_without_the_onnx_package_the_float32_model_is_used_with_one_log_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # an import of it now fails
    with caplog.at_level(logging.WARNING):
        embedder = load_embedder(str(MODEL), tmp_path / "models", threads=1)
    assert embedder is not None and embedder.variant == ""
    assert [r.message for r in caplog.records if "float32" in r.message] != []
    assert len(caplog.records) == 1
    assert embedder.embed(TEXTS[:1]).shape == (1, 384)


def _fastembed_cache(root: Path) -> Path:
    """A fastembed/Hugging Face cache holding MiniLM as a download leaves it (no network)."""
    repo = root / "models--Qdrant--all-MiniLM-L6-v2-onnx"
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    for name in ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"):
        (snapshot / name).write_bytes((MODEL / name).read_bytes())
    (snapshot / "model.onnx").symlink_to(MODEL / "onnx" / "model.onnx")
    return root


@needs_quantiser
def test_the_default_hub_model_once_downloaded_is_used_through_its_int8_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = _fastembed_cache(tmp_path / "models")
    embedder = load_embedder("sentence-transformers/all-MiniLM-L6-v2", cache, threads=1, probe=lambda: False)
    assert embedder is not None and embedder.variant == "int8"
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    exact = load_embedder("sentence-transformers/all-MiniLM-L6-v2", cache, threads=1, probe=lambda: False, quantise=False)
    assert exact is not None and exact.variant == ""
    assert exact.slug != embedder.slug
    assert (exact.embed(TEXTS) * embedder.embed(TEXTS)).sum(axis=1).min() > 0.97
