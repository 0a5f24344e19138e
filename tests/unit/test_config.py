from __future__ import annotations

import pytest

from docproc.config import (
    SERVED_STORE_BATCHES_IN_FLIGHT,
    DeleteSettings,
    FinalizeSettings,
    LocalSettings,
    NotifyFailureSettings,
    PlanSettings,
    SegmentSettings,
    batches_in_flight,
    embeds_offline,
    load_settings,
)
from docproc.errors import ConfigurationError
from docproc.vectors.port import HybridFusion

BASE = {
    "DOCPROC_BUCKET": "bucket-1",
    "LEDGER_TABLE": "ledger-1",
    "QDRANT_URL": "http://qdrant.invalid:6333",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    for name in (
        "DOCPROC_BUCKET",
        "LEDGER_TABLE",
        "QDRANT_URL",
        "EMBEDDER",
        "CHUNK_TOKENS",
        "CHUNK_OVERLAP",
        "EMBEDDING_DIMENSIONS",
        "EVENT_BUS_NAME",
        "DOCPROC_HOME",
        "LEDGER_TTL_DAYS",
        "OPENAI_API_KEY",
        "OPENAI_API_KEY_SECRET_ARN",
        "OPENAI_REQUESTS_IN_FLIGHT",
        "HASHING_BATCHES_IN_FLIGHT",
        "EMBEDDING_MODEL",
        "HYBRID_DENSE_WEIGHT",
        "HYBRID_BM25_WEIGHT",
        "HYBRID_RRF_K",
    ):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_required_settings_are_named_when_missing(env):
    with pytest.raises(ConfigurationError) as error:
        load_settings(PlanSettings)
    assert "DOCPROC_BUCKET" in str(error.value) and "LEDGER_TABLE" in str(error.value)


def test_defaults_apply_when_set(env):
    env(**BASE)
    settings = load_settings(SegmentSettings)
    assert (settings.chunk_tokens, settings.chunk_overlap) == (512, 64)
    assert settings.embedder == "hashing" and settings.vector_size == 384


def test_overlap_must_be_smaller_than_chunks(env):
    env(**BASE, CHUNK_TOKENS="100", CHUNK_OVERLAP="100")
    with pytest.raises(ConfigurationError, match="CHUNK_OVERLAP"):
        load_settings(SegmentSettings)


def test_openai_needs_a_key(env):
    env(**BASE, EMBEDDER="openai")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY_SECRET_ARN"):
        load_settings(SegmentSettings)


@pytest.mark.parametrize(
    ("embedder", "variables", "in_flight"),
    [
        ("openai", {}, 4),
        ("openai", {"OPENAI_REQUESTS_IN_FLIGHT": "8"}, 8),
        ("openai", {"HASHING_BATCHES_IN_FLIGHT": "3"}, 4),
        ("hashing", {}, 1),
        ("hashing", {"HASHING_BATCHES_IN_FLIGHT": "2"}, 2),
        ("hashing", {"OPENAI_REQUESTS_IN_FLIGHT": "8"}, 1),
    ],
)
def test_a_segment_overlaps_what_waits_on_the_network(env, embedder, variables, in_flight):
    # Given a segment worker in Lambda, whose store is always a Qdrant server
    env(**BASE, EMBEDDER=embedder, OPENAI_API_KEY_SECRET_ARN="arn:aws:secretsmanager:x")
    env(**variables)
    settings = load_settings(SegmentSettings)
    # Then an API's requests overlap; the offline embedder's batches only where asked (each
    # a batch's worth of memory more)
    assert batches_in_flight(settings, settings) == in_flight


@pytest.mark.parametrize(
    ("variables", "served", "in_flight"),
    [
        ({}, False, 1),
        ({"HASHING_BATCHES_IN_FLIGHT": "3"}, False, 1),
        ({}, True, SERVED_STORE_BATCHES_IN_FLIGHT),
        ({"HASHING_BATCHES_IN_FLIGHT": "3"}, True, SERVED_STORE_BATCHES_IN_FLIGHT),
        ({"QDRANT_URL": "http://localhost:6333"}, False, 1),
        ({"QDRANT_URL": "http://localhost:6333", "HASHING_BATCHES_IN_FLIGHT": "3"}, False, 3),
        ({"QDRANT_URL": "http://localhost:6333", "HASHING_BATCHES_IN_FLIGHT": "3"}, True, 3),
    ],
)
def test_the_offline_embedder_on_a_laptop_overlaps_a_store_in_another_process(
    env, tmp_path, variables, served, in_flight
):
    # Given the laptop's settings with the offline embedder: its own store in this process
    # has nothing to wait for; the runner's parent serving it to a worker, or a Qdrant server,
    # answers each batch in its own time
    env(DOCPROC_HOME=str(tmp_path), **variables)
    settings = load_settings(LocalSettings)
    # Then only another process's answers are overlapped: a server's where asked
    assert batches_in_flight(settings, settings, store_served=served) == in_flight
    assert SERVED_STORE_BATCHES_IN_FLIGHT > 1


@pytest.mark.parametrize(("embedder", "offline"), [("hashing", True), ("openai", False)])
def test_only_the_hashing_embedder_embeds_offline(env, tmp_path, embedder, offline):
    env(DOCPROC_HOME=str(tmp_path), EMBEDDER=embedder, OPENAI_API_KEY="sk-test")
    settings = load_settings(LocalSettings)
    assert embeds_offline(settings) is offline


def test_cloud_segment_worker_needs_a_vector_store(env):
    env(DOCPROC_BUCKET="bucket-1", LEDGER_TABLE="ledger-1")
    with pytest.raises(ConfigurationError, match="QDRANT_URL"):
        load_settings(SegmentSettings)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"QDRANT_URL": ":memory:"}, "QDRANT_URL"),
        ({"QDRANT_URL": "qdrant.internal:6333"}, "QDRANT_URL"),
        ({"QDRANT_URL": ""}, "QDRANT_URL"),
    ],
)
@pytest.mark.parametrize("settings", [SegmentSettings, FinalizeSettings, DeleteSettings])
def test_in_lambda_the_vector_store_is_a_server(env, variables, named, settings):
    # Given a store that would live inside one container (in memory, or on its /tmp)
    env(**{**BASE, "EVENT_BUS_NAME": "bus-1", **variables})
    # Then every function that reaches the store refuses to start, naming the variable
    with pytest.raises(ConfigurationError, match=named):
        load_settings(settings)


@pytest.mark.parametrize("settings", [FinalizeSettings, DeleteSettings])
def test_finalize_and_delete_need_no_embedding_key(env, settings):
    # They name the collection from the model and its size; they never embed
    env(**BASE, EVENT_BUS_NAME="bus-1", EMBEDDER="openai", EMBEDDING_MODEL="text-embedding-3-large")
    loaded = load_settings(settings)
    assert (loaded.model_name, loaded.vector_size) == ("text-embedding-3-large", 3072)


def test_segment_rows_outlive_the_redrive_window(env):
    env(**BASE, LEDGER_TTL_DAYS="7")
    with pytest.raises(ConfigurationError, match="LEDGER_TTL_DAYS"):
        load_settings(SegmentSettings)
    env(LEDGER_TTL_DAYS="15")
    assert load_settings(SegmentSettings).ledger_ttl_days == 15


def test_blank_variables_count_as_unset(env):
    # CloudFormation cannot omit a variable, only blank it.
    env(**BASE, EMBEDDING_DIMENSIONS="")
    assert load_settings(SegmentSettings).embedding_dimensions is None


def test_notify_failure_needs_the_bus(env):
    env(LEDGER_TABLE="ledger-1")
    with pytest.raises(ConfigurationError, match="EVENT_BUS_NAME"):
        load_settings(NotifyFailureSettings)


def test_laptop_settings_need_nothing(env):
    settings = load_settings(LocalSettings)
    assert settings.embedder == "hashing" and str(settings.home) == ".docproc"


def test_cost_uses_the_price_table_or_the_override(env):
    env(**BASE, EMBEDDER="openai", OPENAI_API_KEY="sk-x")
    assert load_settings(SegmentSettings).price_per_million_tokens == 0.02
    env(EMBEDDING_MODEL="text-embedding-3-large")
    assert load_settings(SegmentSettings).price_per_million_tokens == 0.13
    env(EMBEDDING_PRICE_PER_MILLION_TOKENS="0.5")
    assert load_settings(SegmentSettings).price_per_million_tokens == 0.5


def test_the_hashing_embedders_version_is_its_model_name(env):
    # Given the hashing embedder and no model named: the default version
    assert load_settings(LocalSettings).model_name == "hashing-v2"
    # Given its first version named: that one (its collections stay searchable)
    env(EMBEDDING_MODEL="hashing-v1")
    assert load_settings(LocalSettings).model_name == "hashing-v1"
    # Given a version that does not exist: refused at start-up, naming the variable
    env(EMBEDDING_MODEL="hashing-v9")
    with pytest.raises(ConfigurationError, match="EMBEDDING_MODEL=hashing-v9"):
        load_settings(LocalSettings)


def test_hybrid_search_weighs_bm25_above_the_offline_embedder_and_a_model_above_bm25(env):
    # Given the offline embedder (its dense side is lexical too): BM25 weighs more
    assert load_settings(LocalSettings).hybrid_fusion == HybridFusion(1.0, 3.0, k=5)
    # Given an embedding model: its dense side weighs more
    env(EMBEDDER="openai", OPENAI_API_KEY="sk-x")
    assert load_settings(LocalSettings).hybrid_fusion == HybridFusion(3.0, 1.0, k=2)
    # Given one weight set: it replaces the embedder's, the rest stays
    env(HYBRID_BM25_WEIGHT="2")
    assert load_settings(LocalSettings).hybrid_fusion == HybridFusion(3.0, 2.0, k=2)
    # Given the rank constant set: it replaces the embedder's
    env(HYBRID_RRF_K="60")
    assert load_settings(LocalSettings).hybrid_fusion == HybridFusion(3.0, 2.0, k=60)
    # Given a weight of zero (a side left out is a search mode, not a weight): refused
    env(HYBRID_DENSE_WEIGHT="0")
    with pytest.raises(ConfigurationError, match="HYBRID_DENSE_WEIGHT"):
        load_settings(LocalSettings)
    # Given a rank constant below 1 (Qdrant's formula divides by rank / weight + k - 1): refused
    env(HYBRID_DENSE_WEIGHT="1", HYBRID_RRF_K="0")
    with pytest.raises(ConfigurationError, match="HYBRID_RRF_K"):
        load_settings(LocalSettings)
