"""A learner's own handwriting: their digits in the store, photos turned into digits, the digits as files,
why a network misreads them, evaluating and fine-tuning runs on them.

``digits_npz`` is the file format every part shares: one ``.npz`` in MNIST's shapes (``images`` uint8
(N, 28, 28), white digit on black; ``labels`` uint8 (N,)).
"""
