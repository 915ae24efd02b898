"""Evaluation shared by teachers and students: WER, macro mAP, EER (+ DET curves)."""

from .metrics import (det_curve, eer, eer_from_trials, mean_average_precision, normalize_text, plot_det,
                      read_trials, word_error_rate)

__all__ = ["det_curve", "eer", "eer_from_trials", "mean_average_precision", "normalize_text", "plot_det",
           "read_trials", "word_error_rate"]
