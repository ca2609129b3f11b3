/* Private to the indexing family: the parsed attributes shared by
 * indexing.c (forward ops, the table) and indexing_grad.c (gradient rules
 * and the ai.onnxtrain backward ops). */
#ifndef OT_OPS_INDEXING_OPS_H
#define OT_OPS_INDEXING_OPS_H

#include "kernels/cpu/indexing.h"
#include "op.h"

/* Gather*, Scatter*: `axis` (batch_dims for GatherND) and the reduction. */
typedef struct ot_index_attrs {
    int64_t axis;
    ot_scatter_reduce reduction;
} ot_index_attrs;

/* The backward ops: the forward's axis (batch_dims for GatherNDGrad) and the
   forward data's shape (Gather*Grad), which dx takes. */
typedef struct ot_index_grad_attrs {
    int64_t axis;
    int rank; /* -1: no `shape` attribute (Scatter*Grad) */
    int64_t shape[OT_MAX_RANK];
} ot_index_grad_attrs;

/* Gradient rules (indexing_grad.c). */
struct ot_grad_ctx;
ot_status ot_gather_grad_rule(struct ot_grad_ctx *g);
ot_status ot_gather_elements_grad_rule(struct ot_grad_ctx *g);
ot_status ot_gather_nd_grad_rule(struct ot_grad_ctx *g);
ot_status ot_scatter_elements_grad_rule(struct ot_grad_ctx *g);
ot_status ot_scatter_nd_grad_rule(struct ot_grad_ctx *g);

/* The backward ops (indexing_grad.c documents them). */
ot_status ot_index_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_gather_grad_infer(ot_kctx *c);
ot_status ot_gather_grad_cpu(ot_kctx *c);
ot_status ot_gather_elements_grad_infer(ot_kctx *c);
ot_status ot_gather_elements_grad_cpu(ot_kctx *c);
ot_status ot_gather_nd_grad_infer(ot_kctx *c);
ot_status ot_gather_nd_grad_cpu(ot_kctx *c);
ot_status ot_scatter_elements_grad_infer(ot_kctx *c);
ot_status ot_scatter_elements_grad_cpu(ot_kctx *c);
ot_status ot_scatter_nd_grad_infer(ot_kctx *c);
ot_status ot_scatter_nd_grad_cpu(ot_kctx *c);

#endif
