import pandas as pd
import pytest

from models.murating.translate import chunks, main
from tests.models.tiny import save_model, save_word_tokenizer
from thresher.murating.units import read_translations


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny BART (random weights) with a word-level tokenizer, saved like a checkpoint."""
    from transformers import BartConfig, BartForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-mt")
    words = [
        "<pad>",
        "<s>",
        "</s>",
        "<unk>",
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        ".",
        "dog",
        "ran",
    ]
    save_word_tokenizer(
        folder, words, "<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    config = BartConfig(
        vocab_size=len(words),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
    )
    return save_model(folder, BartForConditionalGeneration, config)


def test_chunks_split_at_sentences_under_the_limit():
    text = "One two. Three four five. Six."
    assert chunks(text, 12) == ["One two.", "Three four five.", "Six."]
    assert chunks(text, 100) == [text]


def test_translate_writes_complete_parallel_units(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    source = tmp_path / "english.parquet"
    pd.DataFrame(
        {"unit_id": ["u1", "u2"], "text": ["the cat sat .", "a dog ran . the end"]}
    ).to_parquet(source)
    result = main(
        [
            "--input",
            str(source),
            "--output",
            "mt",
            "--model",
            f"de={tiny_model}",
            "--batch-size",
            "4",
        ]
    )
    docs = read_translations(result["output"])
    english = {d.unit_id for d in docs if d.language == "en"}
    german = {d.unit_id for d in docs if d.language == "de"}
    assert english == {"u1", "u2"} and german <= english
    assert all(d.source.startswith("translation:") for d in docs if d.language == "de")
