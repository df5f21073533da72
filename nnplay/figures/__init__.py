"""Figure builders: pure functions from library objects to Plotly figures (or their JSON specs).

``train`` (loss and epoch curves, run comparison), ``inspect`` (weights, filters, histograms,
mistakes, confusion matrix, probabilities), ``teach`` (activation curves and the forward pass's
tables), ``experiments`` (sweep overlays), ``compare`` (many runs: parallel coordinates, a setting against a
metric, curves with seed bands) and ``network`` (the network view: neurons and weights,
one neuron, seed 002's small network, the probe digits and the first layer); ``layout`` holds the rule
they all follow (``clear_of_toolbar``: nothing under Plotly's toolbar). Tests read them through
``fig.data``; no streamlit.
"""
