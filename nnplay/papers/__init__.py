"""Published results: the classic MNIST tables and figures nnplay reproduces.

``rows`` (each table row and figure row: the paper, its setup and number, nnplay's configs and an honest note),
``results`` (a row's seeds as runs in the store, and their mean ± std against the paper's number; a figure
row's result kept in the workspace's settings), ``probes`` (per-layer activation statistics recorded while a
network trains) and ``studies`` (the figure rows' trainings). The page is ``pages/papers.py``; its figures are
``nnplay.figures.papers``. Nothing here imports streamlit.
"""

from .results import DEFAULT_SEEDS, RowResult, latest_runs, load_figure, plan_runs, results_table, row_result, save_figure
from .rows import FIGURE_ROWS, ROWS, FigureRow, Row

__all__ = ["DEFAULT_SEEDS", "RowResult", "latest_runs", "load_figure", "plan_runs", "results_table", "row_result",
           "save_figure", "FIGURE_ROWS", "ROWS", "FigureRow", "Row"]
