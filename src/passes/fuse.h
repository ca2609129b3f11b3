/* Fusion: graph -> graph, after autodiff and before compilation.
 *
 *   - Transposes of a product's operand (or of a Gemm's result) folded into
 *     the product's transA / transB flags.
 *   - GEMM epilogues: Gemm or MatMul (A (..., K) x B (K, N)) followed by a
 *     bias Add and/or a unary activation becomes one FusedGemm (bias and
 *     activation applied per output panel while it is in cache).
 *   - Elementwise groups: every maximal convex set of connected nodes whose
 *     ops carry OT_TRAIT_ELEMENTWISE (forward ops and the ai.onnxtrain
 *     gradient ops alike), compute in float/double and share one output
 *     shape becomes one FusedElementwise, whose intermediate values are never
 *     stored.  Values used outside the group (or graph outputs) become its
 *     outputs.  A ReduceSum over every axis but the last of a group's value
 *     (the bias gradient after ReluGrad, ...) joins the group as a reduction
 *     output.  Which ops qualify is decided by their table row (traits and
 *     parse function) — there is no list of patterns.
 *
 * Values known at compile time (initializers that are not mutable, Constant
 * outputs and everything computed from them alone) are left to the
 * compiler's folding, never fused.  Scalar constants become immediates of
 * the fused program.
 *
 * Node indices: removed nodes disappear, except that every node whose op is
 * OT_TRAIT_RANDOM (Dropout) keeps its index — the key of its random stream,
 * which DropoutGrad's seed_node names — by padding with Nop nodes (ops/
 * fused.c: no inputs or outputs, compiled to nothing) where nodes before it
 * were removed.  Value ids never change: nothing is renumbered. */
#ifndef OT_PASSES_FUSE_H
#define OT_PASSES_FUSE_H

#include <stdbool.h>

#include "../ir/graph.h"

typedef struct ot_fuse_options {
    const bool *mutable_values; /* per value id, or NULL: initializers that change between runs */
    bool no_gemm;               /* skip transpose folding and GEMM epilogues */
    bool no_elementwise;        /* skip elementwise groups */
} ot_fuse_options;

typedef struct ot_fuse_report {
    int nodes_before, nodes_after; /* Nop slots not counted */
    int transposes_folded;         /* Transpose nodes absorbed by matrix products */
    int gemm_epilogues;            /* FusedGemm nodes made */
    int elementwise_groups;        /* FusedElementwise nodes made */
    int elementwise_nodes;         /* the elementwise nodes they replaced */
    int bias_grads;                /* ReduceSums absorbed as reductions */
} ot_fuse_report;

/* Requires dtype/shape annotations (ot_graph_infer_shapes, or autodiff's);
   nodes with unknown shapes are left alone.  opt and report may be NULL. */
ot_status ot_fuse(ot_graph *g, const ot_fuse_options *opt, ot_fuse_report *report);

#endif
