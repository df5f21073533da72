"""Figure builders: pure functions from library objects to Plotly figures (or their JSON specs).

``train`` (loss and epoch curves, run comparison), ``inspect`` (weights, filters, histograms,
mistakes, confusion matrix, probabilities), ``teach`` (activation curves and the forward pass's
tables) and ``experiments`` (sweep overlays). Tests read them through ``fig.data``; no streamlit.
"""
