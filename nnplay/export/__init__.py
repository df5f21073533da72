"""Take it home: a run's model in other formats, its training script, its history in TensorBoard.

``formats`` writes ONNX, TorchScript, safetensors and nnplay checkpoints (atomically);
``script`` generates a standalone PyTorch training script for a run; ``tensorboard`` writes a
run's history as TensorBoard event files; ``run`` turns one run (``nnplay.runs.Run``) into those
files, or a sentence saying why it cannot. onnx, onnxruntime, safetensors and tensorboard are
optional installs (``pip install -r requirements-export.txt``), imported only when used.
Nothing here trains: the engine lives in ``nnplay.engine``.
"""

from .formats import (INSTALL_HINT, MODEL_FORMATS, ExportError, atomic_write, export_model, export_onnx,
                      export_safetensors, export_torchscript, load_safetensors, model_bytes, onnx_logits)
from .run import (RUN_FORMATS, install_sentence, missing_packages, no_model_reason, run_file, run_script,
                  script_files, write_script_files)
from .script import training_script
from .tensorboard import tensorboard_zip, write_tensorboard

__all__ = [
    "INSTALL_HINT", "MODEL_FORMATS", "ExportError", "atomic_write", "export_model", "export_onnx",
    "export_safetensors", "export_torchscript", "load_safetensors", "model_bytes", "onnx_logits", "training_script",
    "RUN_FORMATS", "install_sentence", "missing_packages", "no_model_reason", "run_file", "run_script",
    "script_files", "write_script_files",
    "tensorboard_zip", "write_tensorboard",
]
