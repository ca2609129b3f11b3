/* Adding nodes to an annotated graph: each emitted node is shape-inferred at
 * once, so later emissions can read its outputs' shapes.  Used by autodiff
 * and by the training-graph builder (losses). */
#ifndef OT_PASSES_EMIT_H
#define OT_PASSES_EMIT_H

#include "../../ops/grad.h"

typedef struct ot_emitter {
    ot_graph *g;
    const char *prefix; /* names are "<prefix>/<op>_<n>" */
    int counter;
} ot_emitter;

ot_status ot_emit_value(ot_emitter *e, const char *tag, int *id);
/* Fills a freshly added attribute (ot_node_add_attr) from its description (copies the data). */
ot_status ot_attr_from_grad(ot_attr *at, const ot_grad_attr *src);
ot_status ot_emit(ot_emitter *e, const char *op, const char *domain, int n_in, const int *in, int n_out, int *out,
                  int n_attrs, const ot_grad_attr *attrs);
ot_status ot_emit_const(ot_emitter *e, ot_dtype dtype, int rank, const int64_t *dims, int *out, ot_tensor **t);
ot_status ot_emit_const_i64(ot_emitter *e, int n, const int64_t *vals, int *out);
ot_status ot_emit_const_scalar(ot_emitter *e, ot_dtype dtype, double v, int *out);
ot_status ot_emit_reduce_sum(ot_emitter *e, int x, int n, const int64_t *axes, bool keepdims, int *out);
ot_status ot_emit_reshape(ot_emitter *e, int x, int r, const int64_t *dims, int *out);

#endif
