"""The UI glue's shared dataset cache follows the data folder it is pointed at."""

import nnplay.data
from nnplay.ui import cached_mnist


def test_cached_mnist_is_keyed_by_the_data_folder(monkeypatch, tmp_path, mnist_dir):
    monkeypatch.setattr(nnplay.data, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))  # empty: the built-in sample
    assert cached_mnist().source == "sample"
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(mnist_dir))  # the full set: not the sample cached above
    data = cached_mnist()
    assert data.source == "full" and len(data.train_images) == 60_000
