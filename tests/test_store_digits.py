"""The store's digits (``nnplay.store_digits``): round trips of images, labels and pictures, counts, the arrays in
MNIST's shapes, bulk import, refusals of what is not a digit, and the workspace wall: a digit of another workspace
is never read, relabelled or deleted. The store is each test's own (conftest's ``private_store``).
"""

from __future__ import annotations

import numpy as np
import pytest

from nnplay.store import open_store


def digit(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def test_a_digit_round_trips_with_its_picture_loaded_apart():
    store = open_store()
    picture = b"\x89PNG fake bytes"
    image = digit(1)
    digit_id = store.add_digit("ws-a", 3, image, picture, "drawn")
    (record,) = store.list_digits("ws-a")
    assert record.id == digit_id and record.label == 3 and record.source == "drawn" and record.has_picture
    np.testing.assert_array_equal(record.image, image)
    assert record.image.dtype == np.uint8 and record.created > 0
    assert store.digit_picture(digit_id, "ws-a") == picture
    no_picture = store.add_digit("ws-a", 7, digit(2), None, "photo")
    assert store.digit_picture(no_picture, "ws-a") is None
    assert [r.label for r in store.list_digits("ws-a")] == [3, 7]  # oldest first


def test_counts_and_arrays_in_mnist_shapes():
    store = open_store()
    assert store.digit_counts("ws") == {d: 0 for d in range(10)}
    images, labels = store.digits_arrays("ws")
    assert images.shape == (0, 28, 28) and images.dtype == np.uint8 and labels.shape == (0,)
    for seed, label in enumerate([1, 1, 4, 9]):
        store.add_digit("ws", label, digit(seed), None, "drawn")
    assert store.digit_counts("ws") == {**{d: 0 for d in range(10)}, 1: 2, 4: 1, 9: 1}
    images, labels = store.digits_arrays("ws")
    assert images.dtype == np.uint8 and labels.dtype == np.uint8 and images.shape == (4, 28, 28)
    assert labels.tolist() == [1, 1, 4, 9]
    np.testing.assert_array_equal(images[2], digit(2))


def test_bulk_import_keeps_order_and_refuses_mismatched_lengths():
    store = open_store()
    images = np.stack([digit(s) for s in range(5)])
    ids = store.add_digits("ws", images, np.array([0, 1, 2, 3, 4]), "import")
    assert len(set(ids)) == 5
    got, labels = store.digits_arrays("ws")
    np.testing.assert_array_equal(got, images)
    assert labels.tolist() == [0, 1, 2, 3, 4]
    assert {r.source for r in store.list_digits("ws")} == {"import"}
    with pytest.raises(ValueError, match="one label per image"):
        store.add_digits("ws", images, np.array([1, 2]), "import")
    assert len(store.list_digits("ws")) == 5  # nothing half-kept


@pytest.mark.parametrize("label", [10, -1, 2.5, "x", True])
def test_a_label_outside_0_to_9_is_refused(label):
    with pytest.raises(ValueError, match="from 0 to 9"):
        open_store().add_digit("ws", label, digit(0), None, "drawn")


def test_a_wrong_image_or_source_is_refused():
    store = open_store()
    with pytest.raises(ValueError, match="28×28"):
        store.add_digit("ws", 1, np.zeros((20, 20), np.uint8), None, "drawn")
    with pytest.raises(ValueError, match="comes from"):
        store.add_digit("ws", 1, digit(0), None, "scribbled")
    assert store.list_digits("ws") == []


def test_relabel_and_delete_stay_in_their_workspace():
    store = open_store()
    mine = store.add_digit("mine", 2, digit(1), b"png-mine", "drawn")
    theirs = store.add_digit("theirs", 5, digit(2), b"png-theirs", "drawn")
    # another workspace sees nothing of mine
    assert [r.id for r in store.list_digits("theirs")] == [theirs]
    assert store.digit_picture(mine, "theirs") is None and store.get_digit(mine, "theirs") is None
    assert store.digit_counts("theirs")[2] == 0 and len(store.digits_arrays("theirs")[0]) == 1
    # nor can it change or delete it
    assert store.set_digit_label(mine, "theirs", 8) is False
    assert store.delete_digit(mine, "theirs") is False
    assert store.get_digit(mine, "mine").label == 2
    # in its own workspace both work
    assert store.set_digit_label(mine, "mine", 8) is True
    assert store.get_digit(mine, "mine").label == 8
    assert store.delete_digit(mine, "mine") is True
    assert store.list_digits("mine") == []
    assert [r.label for r in store.list_digits("theirs")] == [5]  # untouched
    assert store.digit_picture(theirs, "theirs") == b"png-theirs"


def test_digits_survive_reopening_the_store(private_store):
    from nnplay.store import Store

    store = open_store()
    digit_id = store.add_digit("ws", 6, digit(3), b"png", "photo")
    again = Store(private_store)
    (record,) = again.list_digits("ws")
    assert record.id == digit_id and record.label == 6 and record.source == "photo"
    np.testing.assert_array_equal(record.image, digit(3))
    again.close()
