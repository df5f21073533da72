"""The lessons: the seed notes' teaching pieces, each a module the matching page draws.

``activations`` (seed 001: activation functions, vanishing gradients, linear collapse),
``forward`` (seed 002: the numpy 3-layer forward pass), ``experiments`` (seed 003's studies),
``scratch`` (seed 004: numpy → autograd → nn → optim), ``draw`` (a drawing → an MNIST digit,
prediction, saliency, and whether it is a digit at all) and ``neurons`` (inside a trained MLP: every
neuron's activation, one neuron's weights, favourite images and votes, the probe digits). Headless: no streamlit, no figures (those are in ``nnplay.figures``).
"""
