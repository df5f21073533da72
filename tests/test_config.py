"""The presets as a learner meets them (``nnplay.config.PRESETS``): named by what they are.

What lives here: each preset's title says the network (MLP widths or CNN channels) and the lecture
note it comes from, never the word "seed"; the stable keys (links, the CLI's ``--preset``, stored
runs) stay as they were; the Train page's preset buttons carry those titles and load their preset.
What does not live here: validating configs (tests/test_codec.py, tests/test_page_train.py), the
words of the pages (tests/test_welcome.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from nnplay.config import PRESETS

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
NOTE_OF = {"seed-mlp": "note 000", "model-a": "note 001", "model-b": "note 001", "model-c": "note 001",
           "model-d": "note 001", "seed-cnn": "note 003", "lenet-5": "LeCun et al. 1998"}


def test_the_keys_stay_for_links_the_cli_and_stored_runs():
    assert set(PRESETS) == set(NOTE_OF)
    assert all(key == preset.key for key, preset in PRESETS.items())


def test_each_title_says_the_network_and_its_note():
    for key, preset in PRESETS.items():
        model = preset.model
        shape = ("MLP 784-" + "".join(f"{w}-" for w in model.hidden) + "10" if model.family == "mlp"
                 else "CNN " + "-".join(map(str, model.channels)))
        assert preset.title.startswith(shape), (key, preset.title)
        assert f"({NOTE_OF[key]}" in preset.title, (key, preset.title)
        assert not re.search(r"seed", preset.title + preset.description, re.I), (key, preset.title)
    titles = [p.title for p in PRESETS.values()]
    assert len(set(titles)) == len(titles)  # no two buttons read the same
    assert [PRESETS[k].short for k in ("model-a", "model-b", "model-c", "model-d")] == ["A", "B", "C", "D"]


def test_the_train_page_buttons_show_the_titles_and_load_their_preset():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    buttons = {b.key: b for b in at.button if b.key and b.key.startswith("train_preset_")}
    assert {key: b.label for key, b in buttons.items()} == {f"train_preset_{k}": p.title for k, p in PRESETS.items()}
    assert "lecture notes" in " ".join(c.value for c in at.caption)  # the row says where the presets come from
    label = PRESETS["model-d"].title
    next(b for b in at.button if b.label == label).click().run()
    assert at.session_state["_train_configs"]["model"] == PRESETS["model-d"].model
    assert any(label in i.value for i in at.info)  # the note names the preset by its title
