"""The run store's digits: the ``digits`` table (schema version 5) and what reads and writes it.

A learner's own digit is a record (``DigitRecord``: id, workspace, label, the 28×28 uint8 image, where it came
from, when it was made) with, beside it, the picture it was made from (the canvas or the photo, as PNG, read
only when asked: ``digit_picture``). ``DigitTables`` is mixed into ``store.Store``: ``add_digit``,
``add_digits``, ``list_digits``, ``digit_picture``, ``set_digit_label``, ``delete_digit``, ``digit_counts``
and ``digits_arrays``. Every method takes the workspace and touches that workspace's digits only: a digit of
another workspace is never read, changed or deleted. What does not live here: turning a drawing or a photo
into a digit (``nnplay.lessons.draw``, ``nnplay.handwriting.photos``), the digits as files
(``nnplay.handwriting.files``), the table's schema and its migration (``store_file``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .run_record import new_id

if TYPE_CHECKING:
    from .store import Store

DIGIT_SOURCES = ("drawn", "photo", "import")
"""Where a digit came from: drawn on the canvas, a photo or scan, or a file imported."""


@dataclass(frozen=True)
class DigitRecord:
    """One of a learner's digits as the store keeps it (its picture is read apart: ``digit_picture``)."""

    id: str
    workspace: str
    label: int
    image: np.ndarray  # uint8 (28, 28), white digit on black
    source: str
    created: float
    has_picture: bool


def _image_bytes(image) -> bytes:
    """784 bytes of a 28×28 image; ValueError with a sentence for anything else."""
    a = np.asarray(image)
    if a.shape != (28, 28):
        raise ValueError(f"a digit is a 28×28 image; this one is {'×'.join(map(str, a.shape)) or 'a number'}.")
    if a.size and (a.min() < 0 or a.max() > 255):
        raise ValueError("a digit's pixels lie in 0..255.")
    return a.astype(np.uint8).tobytes()


def _label(label) -> int:
    try:
        whole = not isinstance(label, bool) and int(label) == label
    except (TypeError, ValueError):
        whole = False
    if not whole or not 0 <= int(label) <= 9:
        raise ValueError(f"a digit's label is a whole number from 0 to 9, not {label!r}.")
    return int(label)


def _source(source: str) -> str:
    if source not in DIGIT_SOURCES:
        raise ValueError(f"a digit comes from one of {', '.join(DIGIT_SOURCES)}, not {source!r}.")
    return source


def _image(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(28, 28).copy()


class DigitTables:
    """The digits' part of ``Store`` (mixed in): uses its ``write`` and ``_read``."""

    def add_digit(self: "Store", workspace: str, label: int, image, picture: bytes | None = None,
                  source: str = "drawn") -> str:
        """Keep one digit (``image``: uint8 28×28; ``picture``: the PNG it was made from, or None); its id."""
        digit_id = new_id()
        row = (digit_id, workspace, _label(label), _image_bytes(image), picture, _source(source), time.time())
        self.write(lambda db: db.execute("INSERT INTO digits (id, workspace, label, image, picture, source, created) "
                                         "VALUES (?,?,?,?,?,?,?)", row))
        return digit_id

    def add_digits(self: "Store", workspace: str, images, labels, source: str = "import") -> list[str]:
        """Keep many digits at once (one transaction): ``images`` (N, 28, 28), ``labels`` (N,); their ids."""
        images, labels = np.asarray(images), np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"one label per image: {len(images)} images, {len(labels)} labels.")
        now = time.time()
        # created grows by a microsecond per digit so that they list in the order given
        rows = [(new_id(), workspace, _label(label), _image_bytes(image), None, _source(source), now + i * 1e-6)
                for i, (image, label) in enumerate(zip(images, labels))]
        self.write(lambda db: db.executemany("INSERT INTO digits (id, workspace, label, image, picture, source, "
                                             "created) VALUES (?,?,?,?,?,?,?)", rows))
        return [row[0] for row in rows]

    def list_digits(self: "Store", workspace: str) -> list[DigitRecord]:
        """The workspace's digits, oldest first (without their pictures)."""
        rows = self._read("SELECT id, workspace, label, image, source, created, picture IS NOT NULL FROM digits "
                          "WHERE workspace=? ORDER BY created, id", (workspace,))
        return [DigitRecord(r[0], r[1], int(r[2]), _image(r[3]), r[4], r[5], bool(r[6])) for r in rows]

    def get_digit(self: "Store", digit_id: str, workspace: str) -> DigitRecord | None:
        """One of the workspace's digits, or None (also when the id is another workspace's)."""
        rows = self._read("SELECT id, workspace, label, image, source, created, picture IS NOT NULL FROM digits "
                          "WHERE id=? AND workspace=?", (digit_id, workspace))
        return DigitRecord(rows[0][0], rows[0][1], int(rows[0][2]), _image(rows[0][3]), rows[0][4], rows[0][5],
                           bool(rows[0][6])) if rows else None

    def digit_picture(self: "Store", digit_id: str, workspace: str) -> bytes | None:
        """The PNG the digit was made from (canvas or photo), or None: none kept, or not this workspace's."""
        rows = self._read("SELECT picture FROM digits WHERE id=? AND workspace=?", (digit_id, workspace))
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_digit_label(self: "Store", digit_id: str, workspace: str, label: int) -> bool:
        """Relabel one of the workspace's digits; False when it has no such digit."""
        label = _label(label)
        return self.write(lambda db: db.execute("UPDATE digits SET label=? WHERE id=? AND workspace=?",
                                                (label, digit_id, workspace)).rowcount) > 0

    def delete_digit(self: "Store", digit_id: str, workspace: str) -> bool:
        """Remove one of the workspace's digits; False when it has no such digit."""
        return self.write(lambda db: db.execute("DELETE FROM digits WHERE id=? AND workspace=?",
                                                (digit_id, workspace)).rowcount) > 0

    def digit_counts(self: "Store", workspace: str) -> dict[int, int]:
        """How many digits of each class (0..9, every class present) the workspace holds."""
        counts = {d: 0 for d in range(10)}
        for label, n in self._read("SELECT label, count(*) FROM digits WHERE workspace=? GROUP BY label",
                                   (workspace,)):
            counts[int(label)] = int(n)
        return counts

    def digits_arrays(self: "Store", workspace: str) -> tuple[np.ndarray, np.ndarray]:
        """The workspace's digits in MNIST's shapes, oldest first: (images uint8 (N, 28, 28), labels uint8 (N,))."""
        rows = self._read("SELECT image, label FROM digits WHERE workspace=? ORDER BY created, id", (workspace,))
        images = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.uint8).reshape(len(rows), 28, 28).copy()
        return images, np.array([r[1] for r in rows], dtype=np.uint8)
