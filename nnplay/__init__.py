"""nnplay: an interactive playground for neural networks on MNIST.

The package is the headless library the Streamlit pages and the CLI share: typed configs
(``config``), data (``data``), models (``models``), the training engine (``engine``) and
checkpoints (``checkpoint``). Only ``ui`` imports streamlit.
"""

from .config import PRESETS, DataConfig, ModelConfig, Preset, TrainConfig
from .data import DataError, MnistData, load_mnist, normalise
from .engine import (EpochMetrics, Evaluation, History, LayerStats, RunControl, RunEnd, RunResult,
                     RunStart, StepEvent, evaluate, pick_device, seeded_model, train)
from .models import build_model, count_parameters, layer_table

__all__ = [
    "PRESETS", "DataConfig", "ModelConfig", "Preset", "TrainConfig",
    "DataError", "MnistData", "load_mnist", "normalise",
    "EpochMetrics", "Evaluation", "History", "LayerStats", "RunControl", "RunEnd", "RunResult",
    "RunStart", "StepEvent", "evaluate", "pick_device", "seeded_model", "train",
    "build_model", "count_parameters", "layer_table",
]
