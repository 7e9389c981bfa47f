import pandas as pd
import pytest

from models.murating.translate import chunks, main
from thresher.murating.units import read_translations


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny BART (random weights) with a word-level tokenizer, saved like a checkpoint."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

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
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>")  # fmt: skip
    fast.save_pretrained(folder)
    config = BartConfig(vocab_size=len(words), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2,
                        encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                        pad_token_id=0, bos_token_id=1, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2)  # fmt: skip
    BartForConditionalGeneration(config).save_pretrained(folder)
    return folder


def test_chunks_split_at_sentences_under_the_limit():
    text = "One two. Three four five. Six."
    assert chunks(text, 12) == ["One two.", "Three four five.", "Six."]
    assert chunks(text, 100) == [text]


def test_translate_writes_complete_parallel_units(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    source = tmp_path / "english.parquet"
    pd.DataFrame({"unit_id": ["u1", "u2"], "text": ["the cat sat .", "a dog ran . the end"]}
                 ).to_parquet(source)  # fmt: skip
    result = main(["--input", str(source), "--output", "mt", "--model", f"de={tiny_model}",
                   "--batch-size", "4"])  # fmt: skip
    docs = read_translations(result["output"])
    english = {d.unit_id for d in docs if d.language == "en"}
    german = {d.unit_id for d in docs if d.language == "de"}
    assert english == {"u1", "u2"} and german <= english
    assert all(d.source.startswith("translation:") for d in docs if d.language == "de")
