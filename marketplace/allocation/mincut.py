"""Exact allocation of closure instances (one derivation per row, no binding budget) by a minimum s-t cut.

Source -> row (capacity v), row -> item (capacity v + 1, large enough never to be cut instead of the
source edge), item -> sink (capacity p). The rows that cannot reach the sink in the residual graph form the
largest optimal closure, so rows that exactly break even are bought.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from .compiled import Compiled
from .model import StrategyNotApplicable
from .solution import Solution

# scipy's maximum_flow works on int32 capacities
_INT32_MAX = np.iinfo(np.int32).max


def solve_mincut(c: Compiled) -> Solution:
    if not c.is_closure():
        raise StrategyNotApplicable("mincut needs one derivation per row and no binding budget")
    n_rows, n_items = c.n_rows, c.n_items
    chosen = np.arange(n_rows, dtype=np.int64)  # row r's only derivation is derivation r
    if n_rows == 0:
        return Solution(chosen=chosen, strategy="mincut", upper_bound=0.0, optimal=True)

    # Unlimited rows are bought whatever they cost: their items are sunk costs for everyone else.
    inc_row = np.repeat(np.arange(n_rows), np.diff(c.deriv_ptr))
    inc_item = c.deriv_items
    price = c.price.copy()
    forced = inc_item[c.unlimited[inc_row]]
    price[forced] = 0

    value = c.value
    if n_items and (int(value.max()) + 1 > _INT32_MAX or int(price.max()) > _INT32_MAX):
        raise StrategyNotApplicable("a value or price exceeds the int32 capacities of scipy's max flow")

    finite = ~c.unlimited
    keep = finite[inc_row] & (price[inc_item] > 0)
    src, sink = 0, n_rows + n_items + 1
    finite_rows = np.flatnonzero(finite)
    priced_items = np.flatnonzero(price > 0)
    tails = np.concatenate([np.zeros(len(finite_rows), dtype=np.int64), 1 + inc_row[keep], 1 + n_rows + priced_items])
    heads = np.concatenate(
        [1 + finite_rows, 1 + n_rows + inc_item[keep], np.full(len(priced_items), sink, dtype=np.int64)]
    )
    caps = np.concatenate([value[finite_rows], value[inc_row[keep]] + 1, price[priced_items]]).astype(np.int32)
    n = sink + 1
    graph = sp.csr_matrix((caps, (tails, heads)), shape=(n, n))
    flow = maximum_flow(graph, src, sink).flow

    residual = (graph.astype(np.int64) - flow.astype(np.int64)).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reaches_sink = np.zeros(n, dtype=bool)
    reaches_sink[breadth_first_order(residual.T.tocsr(), sink, directed=True, return_predecessors=False)] = True

    bought = ~reaches_sink[1 : 1 + n_rows] | c.unlimited
    chosen[~bought] = -1
    bought_items = np.zeros(n_items, dtype=bool)
    bought_items[inc_item[bought[inc_row]]] = True
    objective = int(value[bought & finite].sum()) - int(c.price[bought_items].sum())
    return Solution(chosen=chosen, strategy="mincut", upper_bound=float(objective), optimal=True)
