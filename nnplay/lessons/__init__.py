"""The lessons: the seed notes' teaching pieces, each a module the matching page draws.

``activations`` (seed 001: activation functions, vanishing gradients, linear collapse),
``forward`` (seed 002: the numpy 3-layer forward pass), ``experiments`` (seed 003's studies),
``scratch`` (seed 004: numpy → autograd → nn → optim) and ``draw`` (a drawing → an MNIST digit,
prediction and saliency). Headless: no streamlit, no figures (those are in ``nnplay.figures``).
"""
