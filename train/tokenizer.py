"""The CTC vocabulary: a sentencepiece BPE model trained on the training transcripts.

CTC needs a blank at index 0, so CTC id = sentencepiece id + 1 and "<blk>" takes id 0; the
token list written into checkpoints (and from there into every export) follows that order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

BLANK = "<blk>"


class Tokenizer:
    def __init__(self, model_path: Path) -> None:
        import sentencepiece as spm

        if not Path(model_path).is_file():
            raise FileNotFoundError(f"{model_path}: BPE model not found (train it with train_bpe)")
        self.path = Path(model_path)
        self.sp = spm.SentencePieceProcessor(model_file=str(model_path))

    @property
    def vocab_size(self) -> int:  # including the blank
        return self.sp.get_piece_size() + 1

    def tokens(self) -> list[str]:
        return [BLANK] + [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]

    def encode(self, text: str) -> list[int]:
        return [i + 1 for i in self.sp.encode(text.lower())]

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode([i - 1 for i in ids if i > 0])


def train_bpe(texts: list[str], out: Path, vocab_size: int) -> Tokenizer:
    """Train a BPE model with ``vocab_size`` CTC units (blank included) on lower-cased texts."""
    import sentencepiece as spm

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "text.txt"
        corpus.write_text("\n".join(t.lower() for t in texts) + "\n")
        prefix = Path(tmp) / "bpe"
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size - 1, model_type="bpe",
            character_coverage=1.0, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, num_threads=2,
            hard_vocab_limit=False, minloglevel=2)
        tmp_model = out.with_suffix(".tmp")
        tmp_model.write_bytes(prefix.with_suffix(".model").read_bytes())
        tmp_model.replace(out)  # atomic
    tok = Tokenizer(out)
    if tok.vocab_size != vocab_size:  # a tiny corpus may support fewer pieces
        raise ValueError(f"the transcripts support only {tok.vocab_size} BPE units, not {vocab_size}; "
                         f"lower vocab_size")
    return tok
