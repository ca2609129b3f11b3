/* Recomputation (--recompute): trade compute for memory in a training graph.
 *
 * After autodiff, every forward value a backward node reads stays alive from
 * the forward pass until that backward node runs.  When such a value comes
 * from a cheap op (OT_TRAIT_ELEMENTWISE, OT_TRAIT_ALIAS views, and the norms
 * marked OT_TRAIT_RECOMPUTE) whose own inputs are kept for the backward pass
 * anyway (or are parameters, graph inputs, constants, or recomputable in
 * turn), the pass clones the producing chain in front of the first backward
 * reader and points every backward reader at the clone.  The original then
 * dies at its last forward reader; only the chain's inputs cross the pass.
 * GELU's erf chain and LayerNormalization outputs are the typical winners;
 * a value whose inputs are not kept (ReLU after a GEMM) is left alone, since
 * keeping the input instead would save nothing.  Random ops and graph
 * outputs are never recomputed.  Run it before fusion: the clones then fuse
 * into the backward kernels that read them. */
#ifndef OT_PASSES_RECOMPUTE_H
#define OT_PASSES_RECOMPUTE_H

#include <stdint.h>

#include "../ir/graph.h"

typedef struct ot_recompute_report {
    int nodes_cloned;     /* forward nodes run a second time in the backward pass */
    int values_released;  /* forward values no backward node reads any more */
    int64_t bytes_released; /* their total size (known shapes) */
} ot_recompute_report;

/* Nodes [0, n_forward) are the forward pass, the rest the backward pass
   (autodiff appends its nodes after the forward ones).  report may be NULL. */
ot_status ot_recompute(ot_graph *g, int n_forward, ot_recompute_report *report);

#endif
