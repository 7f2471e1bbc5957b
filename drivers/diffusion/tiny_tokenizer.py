"""A CLIP tokenizer built offline from a small vocabulary, for the tiny random-weight models.

Its first 256 ids are GPT-2's byte-to-unicode characters, the next 256 the same with ``</w>``,
then a few whole words and the start/end tokens: real CLIP tokenization behaviour (byte-level
fallback for unknown words, padding to 77) with nothing downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

# Words the toy tokenizer knows as whole tokens; anything else falls back to byte-level pieces,
# exactly as the real CLIP tokenizer does for rare words.
_WORD_TEXT: Final = (
    "a an the of and in on with photo painting portrait cat dog horse astronaut riding "
    "landscape mountain city street night forest river sky red blue green beautiful"
)
_WORDS: Final = tuple(_WORD_TEXT.split())


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table, which CLIP's BPE also uses."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table  # insertion order is the vocabulary order: printable bytes first, as in CLIP


def _vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    alphabet = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for char in alphabet:
        vocab[char] = len(vocab)
    for char in alphabet:
        vocab[char + "</w>"] = len(vocab)
    merges: list[str] = []
    for word in _WORDS:
        # Merge left to right: "cat" -> c a t</w> -> ca t</w> -> cat</w>. Every merge joins two
        # tokens already in the vocabulary, which is what a valid BPE merges file needs.
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merge = f"{parts[0]} {parts[1]}"
            if merge not in merges:
                merges.append(merge)
            vocab.setdefault(parts[0] + parts[1], len(vocab))
            parts = [parts[0] + parts[1], *parts[2:]]
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab, merges


def write_tokenizer_files(folder: Path) -> None:
    vocab, merges = _vocab_and_merges()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )


def build_tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    write_tokenizer_files(folder)
    config = {"model_max_length": 77, "tokenizer_class": "CLIPTokenizer"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return CLIPTokenizer.from_pretrained(str(folder), local_files_only=True)
