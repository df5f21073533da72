"""What the local pool's fork server imports once, before it forks each worker: torch and the worker's code.

``LocalPool`` starts its workers through multiprocessing's "forkserver" where the system has it: a small
process, started fresh (never forked from the app, which has threads), imports this module and then forks
one worker per request. The workers share the pages of that import copy-on-write instead of each importing
torch on its own, about 200 MB less private memory per worker (``scripts/bench_class.py``). Importing this
module is the whole preload: torch (with ``torch._dynamo``, which a worker's first optimiser would otherwise
import), the worker's modules, then ``gc.freeze`` so that a worker's garbage collections leave the inherited
objects' pages alone. The server forks with one thread (OpenBLAS's pool is
kept to the calling thread), nothing here initialises CUDA (a forked child could not use it), and nothing
imports streamlit.
"""

import gc
import os

# numpy's OpenBLAS starts a thread pool as it loads: one thread, so the server forks with no other thread
# running (each worker's torch threads are its own, set by the worker)
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import torch  # noqa: E402, F401 - the import the workers share
import torch._dynamo  # noqa: E402, F401 - a run's first optimiser imports it (Optimizer.__init__ is wrapped by it)

from . import pool_worker  # noqa: E402, F401 - the worker's code: the run loop, the engine, the models, the data

gc.collect()
gc.freeze()
