/* Reduce family internals shared by ops/reduce.c (forward ops and the table)
 * and ops/reduce_grad.c (gradient rules and the ai.onnxtrain ReduceGrad op). */
#ifndef OT_OPS_REDUCE_OPS_H
#define OT_OPS_REDUCE_OPS_H

#include "grad.h"
#include "kernels/cpu/reduce.h"
#include "op.h"

typedef struct ot_reduce_attrs {
    ot_reduce_op op;
    bool axes_input;   /* axes come from input 1 (opset >= 13 / 18) */
    int n_axes;        /* from the attribute; -1 when absent */
    int64_t axes[OT_MAX_RANK];
    bool keepdims;
    bool noop_empty;   /* noop_with_empty_axes */
} ot_reduce_attrs;

typedef struct ot_cumsum_attrs {
    bool exclusive, reverse;
} ot_cumsum_attrs;

/* CumSum and CumProd: the axis input of x, a scalar (or one-element)
   int32/int64 tensor, resolved to [0, rank). */
ot_status ot_cumulative_axis(const ot_kctx *c, const ot_tensor *x, const ot_tensor *axis_t, int *axis);
/* Their infer: types, rank >= 1, the axis when known; Y is X's shape. */
ot_status ot_cumulative_infer(ot_kctx *c);

/* The reduce op of a Reduce* op name ("ReduceSum"...); false if unknown. */
bool ot_reduce_op_of(const char *op_type, ot_reduce_op *op);

/* mask[i]: axis i of a rank-`rank` input is reduced.  The axes are the
   values of `axes_in` when given (an int32/int64 tensor of rank <= 1 whose
   data is known), else attr_axes (n_attr of them, -1 or 0 when none).
   Empty axes mean all axes, or none when noop_empty. */
ot_status ot_reduce_mask(const ot_kctx *c, int rank, const ot_tensor *axes_in, int n_attr, const int64_t *attr_axes,
                         bool noop_empty, bool *mask);

/* Gradient rules (ops/reduce_grad.c). */
ot_status ot_reduce_grad_rule(ot_grad_ctx *g);
ot_status ot_cumsum_grad_rule(ot_grad_ctx *g);

/* The ai.onnxtrain ReduceGrad op (ops/reduce_grad.c). */
typedef struct ot_reduce_grad_attrs {
    ot_reduce_op op;
    int n_axes;        /* -1 when the attribute is absent */
    int64_t axes[OT_MAX_RANK];
    bool keepdims, noop_empty;
    int rank;          /* of the `shape` attribute, -1 when absent */
    int64_t shape[OT_MAX_RANK];
} ot_reduce_grad_attrs;

ot_status ot_reduce_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_reduce_grad_infer(ot_kctx *c);
ot_status ot_reduce_grad_cpu(ot_kctx *c);

#endif
