"""Stage 2: multi-task supervised fine-tuning. Turns a task's cuts into a batch and a loss."""

from __future__ import annotations

from pathlib import Path

import torch

from mt2kd_edge.labels_csv import read_labels_csv
from mt2kd_edge.model_layout import BPE, LABELS

from .batches import MANIFESTS, Batch, collate_audio, load_cuts
from .config import TASKS
from .losses import AAMSoftmax, ctc_loss, tagging_loss
from .tokenizer import Tokenizer, train_bpe


def read_labels(corpus: Path) -> list[tuple[str, str]]:
    return read_labels_csv(Path(corpus) / LABELS)


class SupervisedTasks:
    """The labelled tasks of stage 2 over one corpus: any of asr, at, sv (a corpus may have only some,
    e.g. LibriSpeech has no events; set `task_ratio` to the tasks it has)."""

    def __init__(self, corpus: Path, out: Path, bpe_vocab_size: int, is_main: bool = True,
                 tasks: tuple[str, ...] = TASKS) -> None:
        self.corpus = Path(corpus)
        unknown = set(tasks) - set(MANIFESTS)
        if unknown:
            raise ValueError(f"unknown stage-2 tasks {sorted(unknown)}; use asr, at, sv")
        self.cuts = {t: load_cuts(corpus, MANIFESTS[t]) for t in tasks}
        self.valid_tasks = tuple(t for t in ("asr", "at") if t in tasks)  # pick the best checkpoint
        self.tokenizer, self.labels, self.speakers = None, None, []
        if "asr" in tasks:
            bpe = Path(out) / BPE
            if not bpe.is_file():
                if not is_main:
                    raise RuntimeError("the BPE model must be trained by rank 0 first")
                train_bpe([c.supervisions[0].text for c in self.cuts["asr"]], bpe, bpe_vocab_size)
            self.tokenizer = Tokenizer(bpe)
        if "at" in tasks:
            self.labels = read_labels(corpus)
            self.label_index = {name: i for i, (_, name) in enumerate(self.labels)}
        if "sv" in tasks:
            self.speakers = sorted({c.supervisions[0].speaker for c in self.cuts["sv"]})
            self.speaker_index = {s: i for i, s in enumerate(self.speakers)}

    def tokens(self) -> list[str] | None:
        return self.tokenizer.tokens() if self.tokenizer else None

    def model_overrides(self) -> dict:
        overrides = {}
        if self.tokenizer:
            overrides["vocab_size"] = self.tokenizer.vocab_size
        if self.labels:
            overrides["num_tag_classes"] = len(self.labels)
        return overrides

    def make_batch(self, task: str, cuts: list, max_seconds: float) -> Batch:
        audio, n = collate_audio(cuts, max_seconds)
        if task == "asr":
            # truncation could cut words: ASR cuts are kept whole up to max_seconds, longer ones skipped
            ids = [self.tokenizer.encode(c.supervisions[0].text) for c in cuts]
            lens = torch.tensor([len(i) for i in ids])
            tokens = torch.zeros(len(ids), int(lens.max()), dtype=torch.long)
            for k, i in enumerate(ids):
                tokens[k, :len(i)] = torch.tensor(i)
            return Batch(task, audio, n, {"tokens": tokens, "token_lens": lens})
        if task == "at":
            hot = torch.zeros(len(cuts), len(self.labels))
            for k, c in enumerate(cuts):
                for label in (c.supervisions[0].custom or {}).get("labels", []):
                    hot[k, self.label_index[label]] = 1.0
            return Batch(task, audio, n, {"multi_hot": hot})
        speakers = torch.tensor([self.speaker_index[c.supervisions[0].speaker] for c in cuts])
        return Batch(task, audio, n, {"speaker": speakers})

    def heads(self, embed_dim: int) -> torch.nn.Module:
        """Training-only parameters: the speaker classifier (none without the sv task)."""
        return AAMSoftmax(embed_dim, len(self.speakers)) if self.speakers else torch.nn.Module()

    @staticmethod
    def loss_parts(out, batch: Batch, model, heads: torch.nn.Module) -> dict[str, torch.Tensor]:
        """Only the batch's own task has labels here, so only its loss applies."""
        if batch.task == "asr":
            return {"asr": ctc_loss(out, batch.targets["tokens"], batch.targets["token_lens"])}
        if batch.task == "at":
            return {"at": tagging_loss(out, batch.targets["multi_hot"])}
        return {"sv": heads(out.speaker_embedding, batch.targets["speaker"])}
