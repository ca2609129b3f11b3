/* Gradient rules of the indexing family and its ai.onnxtrain backward ops.
 *
 * A gather's adjoint is a scatter-add into zeros; a scatter's is a gather
 * (for its updates) and a masked copy of dy (for its data).  Indices never
 * get a gradient.  Inputs and outputs of the backward ops, with shapes:
 *
 *   GatherGrad(dy, indices) -> dx            attributes axis, shape
 *       dx (shape) = 0; dx[.., indices[j], ..] += dy[.., j, ..] along axis
 *       (duplicate indices accumulate, negative ones wrap).
 *   GatherElementsGrad(dy, indices) -> dx    attributes axis, shape
 *       dy has the indices' shape; dx = ScatterElements-add of dy into zeros.
 *   GatherNDGrad(dy, indices) -> dx          attributes batch_dims, shape
 *       dx = ScatterND-add of dy into zeros, per batch entry.
 *   ScatterElementsGrad(dy, indices) -> d_data, d_updates    attribute axis
 *   ScatterNDGrad(dy, indices) -> d_data, d_updates
 *       for reduction none: d_data is dy with the written positions zeroed;
 *       d_updates gathers dy for the update that stayed at its position (the
 *       last one in order, as the forward applies them) and is 0 for updates
 *       overwritten by a later duplicate.
 *
 * Scatter reductions: add is linear (d_data = dy, d_updates = gathered dy,
 * with the default-domain GatherElements / GatherND); mul, max and min are
 * not differentiated here (OT_ERR_UNSUPPORTED). */
#include <stdio.h>
#include <string.h>

#include "grad.h"
#include "indexing_ops.h"

static const ot_dtype grad_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
static const ot_dtype idx_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};

static int64_t prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int d = from; d < to; d++) p *= dims[d];
    return p;
}

/* ---- rules ------------------------------------------------------------------- */

/* Emits op(dy, indices) -> dx with the forward's axis and data shape. */
static ot_status gather_like_rule(ot_grad_ctx *g, const char *op, const char *axis_name) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_tensor *x = ot_grad_value(g, ot_grad_x(g, 0));
    int64_t shape[OT_MAX_RANK];
    int rank = x->rank;
    memcpy(shape, x->dims, sizeof(int64_t) * (size_t)rank);
    ot_grad_attr at[2] = {{.name = axis_name, .type = OT_ATTR_INT, .i = ((const ot_index_attrs *)ot_grad_attrs(g))->axis},
                          {.name = "shape", .type = OT_ATTR_INTS, .ints = shape, .n = rank}};
    int in[2] = {dy, ot_grad_x(g, 1)};
    OT_TRY(ot_grad_emit(g, op, OT_DOMAIN_TRAIN, 2, in, 1, &dx, 2, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_gather_grad_rule(ot_grad_ctx *g) { return gather_like_rule(g, "GatherGrad", "axis"); }
ot_status ot_gather_elements_grad_rule(ot_grad_ctx *g) { return gather_like_rule(g, "GatherElementsGrad", "axis"); }
ot_status ot_gather_nd_grad_rule(ot_grad_ctx *g) { return gather_like_rule(g, "GatherNDGrad", "batch_dims"); }

/* ScatterElements / Scatter (elements) and ScatterND (!elements). */
static ot_status scatter_rule(ot_grad_ctx *g, bool elements) {
    static const char *names[] = {"none", "add", "mul", "max", "min"};
    const ot_index_attrs *a = ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0), ind = ot_grad_x(g, 1);
    bool need_data = ot_grad_needs(g, 0), need_upd = ot_grad_needs(g, 2);
    if (dy < 0 || (!need_data && !need_upd)) return OT_OK;
    if (a->reduction == OT_REDUCE_ADD) { /* y = data + scatter(updates): linear */
        if (need_data) OT_TRY(ot_grad_set(g, 0, dy));
        if (!need_upd) return OT_OK;
        int in[2] = {dy, ind}, du;
        ot_grad_attr at = {.name = "axis", .type = OT_ATTR_INT, .i = a->axis};
        OT_TRY(ot_grad_emit(g, elements ? "GatherElements" : "GatherND", "", 2, in, 1, &du, elements ? 1 : 0, &at));
        return ot_grad_set(g, 2, du);
    }
    if (a->reduction != OT_REDUCE_NONE) {
        const ot_node *n = ot_grad_node(g);
        return ot_error(OT_ERR_UNSUPPORTED,
                        "node '%s' (%s): reduction '%s' has no gradient rule (only 'none' and 'add' are differentiable "
                        "here)", n->name, n->op_type, names[a->reduction]);
    }
    int in[2] = {dy, ind}, out[2];
    ot_grad_attr at = {.name = "axis", .type = OT_ATTR_INT, .i = a->axis};
    OT_TRY(ot_grad_emit(g, elements ? "ScatterElementsGrad" : "ScatterNDGrad", OT_DOMAIN_TRAIN, 2, in, 2, out,
                        elements ? 1 : 0, &at));
    OT_TRY(ot_grad_set(g, 0, out[0]));
    return ot_grad_set(g, 2, out[1]);
}

ot_status ot_scatter_elements_grad_rule(ot_grad_ctx *g) { return scatter_rule(g, true); }
ot_status ot_scatter_nd_grad_rule(ot_grad_ctx *g) { return scatter_rule(g, false); }

/* ---- backward ops: shared checks ---------------------------------------------- */

ot_status ot_index_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_index_grad_attrs *a = attrs;
    const int64_t *v;
    int cnt;
    (void)opset;
    OT_TRY(ot_attr_get_int(n, strcmp(n->op_type, "GatherNDGrad") ? "axis" : "batch_dims", 0, &a->axis));
    OT_TRY(ot_attr_get_ints(n, "shape", &v, &cnt));
    if (cnt > OT_MAX_RANK)
        return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): 'shape' has %d dims; the rank limit is %d", n->name,
                        n->op_type, cnt, OT_MAX_RANK);
    a->rank = cnt;
    for (int k = 0; k < cnt; k++) {
        if (v[k] < 0)
            return ot_error(OT_ERR_PARSE, "node '%s' (%s): shape[%d] = %lld is negative", n->name, n->op_type, k,
                            (long long)v[k]);
        a->shape[k] = v[k];
    }
    if (cnt < 0 && !strncmp(n->op_type, "Gather", 6))
        return ot_error(OT_ERR_PARSE, "node '%s' (%s): attribute 'shape' is required", n->name, n->op_type);
    return OT_OK;
}

/* Every index of input 1: element p indexes axis axis0 + p % nb of size bounds[p % nb]. */
static ot_status check_indices(const ot_kctx *c, int nb, const int64_t *bounds, int axis0) {
    const ot_tensor *t = c->in[1];
    const bool i64 = t->dtype == OT_INT64;
    const int64_t n = ot_tensor_numel(t);
    for (int64_t p = 0; p < n; p++) {
        int64_t v = ot_idx_at(t->data, i64, p), b = bounds[p % nb];
        if (v < -b || v >= b)
            return ot_op_error(c, OT_ERR_INVALID_ARG,
                               "index %lld (element %lld of the indices) is out of range [%lld, %lld) for axis %d",
                               (long long)v, (long long)p, (long long)-b, (long long)b, axis0 + (int)(p % nb));
    }
    return OT_OK;
}

/* dy float, indices int32/int64, a data shape; the axis normalised. */
static ot_status gather_grad_common(const ot_kctx *c, int *axis) {
    const ot_index_grad_attrs *a = c->attrs;
    OT_TRY(ot_check_dtype(c, 0, grad_types));
    OT_TRY(ot_check_dtype(c, 1, idx_types));
    if (a->rank < 1) return ot_op_error(c, OT_ERR_SHAPE, "the data shape must have rank >= 1");
    if (a->axis < -a->rank || a->axis >= a->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)a->axis, a->rank);
    *axis = (int)(a->axis < 0 ? a->axis + a->rank : a->axis);
    return OT_OK;
}

static void set_dx(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    ot_set_out(c, 0, c->in[0]->dtype, a->rank, a->shape);
}

/* ---- GatherGrad ------------------------------------------------------------------- */

static ot_status gather_grad_check(ot_kctx *c, int *axis) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *ind = c->in[1];
    OT_TRY(gather_grad_common(c, axis));
    int64_t want[2 * OT_MAX_RANK];
    int n = 0;
    for (int d = 0; d < *axis; d++) want[n++] = a->shape[d];
    for (int d = 0; d < ind->rank; d++) want[n++] = ind->dims[d];
    for (int d = *axis + 1; d < a->rank; d++) want[n++] = a->shape[d];
    OT_TRY(ot_check_dy(c, n, want));
    if (ind->data) OT_TRY(check_indices(c, 1, &a->shape[*axis], *axis));
    return OT_OK;
}

ot_status ot_gather_grad_infer(ot_kctx *c) {
    int axis;
    OT_TRY(gather_grad_check(c, &axis));
    set_dx(c);
    return OT_OK;
}

ot_status ot_gather_grad_cpu(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *ind = c->in[1];
    int axis;
    OT_TRY(gather_grad_check(c, &axis));
    ot_status s = ot_cpu_gather_grad(c->in[0]->dtype, c->out[0]->data, prod(a->shape, 0, axis), a->shape[axis],
                                     prod(a->shape, axis + 1, a->rank), ind->data, ind->dtype == OT_INT64,
                                     ot_tensor_numel(ind), c->in[0]->data);
    return s ? ot_op_error(c, s, "%s", ot_last_error()) : OT_OK;
}

/* ---- GatherElementsGrad -------------------------------------------------------------- */

/* Indices (and dy, of their shape) have data's rank and fit inside it off the axis. */
static ot_status elements_check(ot_kctx *c, int rank, const int64_t *ddims, int axis) {
    const ot_tensor *ind = c->in[1];
    char si[160], sx[160];
    OT_TRY(ot_check_dtype(c, 1, idx_types));
    if (ind->rank != rank)
        return ot_op_error(c, OT_ERR_SHAPE, "indices %s must have the rank of data %s",
                           ot_shape_str(ind->rank, ind->dims, si, sizeof si), ot_shape_str(rank, ddims, sx, sizeof sx));
    for (int d = 0; d < rank; d++)
        if (d != axis && ind->dims[d] > ddims[d])
            return ot_op_error(c, OT_ERR_SHAPE, "indices %s exceed data %s along axis %d",
                               ot_shape_str(ind->rank, ind->dims, si, sizeof si), ot_shape_str(rank, ddims, sx, sizeof sx), d);
    if (ind->data) OT_TRY(check_indices(c, 1, &ddims[axis], axis));
    return OT_OK;
}

ot_status ot_gather_elements_grad_infer(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    int axis;
    OT_TRY(gather_grad_common(c, &axis));
    OT_TRY(elements_check(c, a->rank, a->shape, axis));
    OT_TRY(ot_check_dy(c, c->in[1]->rank, c->in[1]->dims));
    set_dx(c);
    return OT_OK;
}

ot_status ot_gather_elements_grad_cpu(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *ind = c->in[1], *dy = c->in[0];
    ot_tensor *dx = c->out[0];
    int axis;
    OT_TRY(gather_grad_common(c, &axis));
    OT_TRY(elements_check(c, a->rank, a->shape, axis));
    memset(dx->data, 0, ot_tensor_nbytes(dx));
    ot_cpu_scatter_elements(dx->data, ot_dtype_size(dx->dtype), ot_cpu_combine_fn(dx->dtype, OT_REDUCE_ADD), a->rank,
                            a->shape, ind->dims, axis, ind->data, ind->dtype == OT_INT64, dy->data);
    return OT_OK;
}

/* ---- GatherNDGrad ---------------------------------------------------------------------- */

/* batch_dims b, index depth k; dy = indices.shape[:-1] + shape[b + k:]. */
static ot_status nd_grad_check(ot_kctx *c, int *b, int *k) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *ind = c->in[1];
    OT_TRY(ot_check_dtype(c, 0, grad_types));
    OT_TRY(ot_check_dtype(c, 1, idx_types));
    const int r = a->rank, q = ind->rank;
    if (r < 1 || q < 1) return ot_op_error(c, OT_ERR_SHAPE, "data and indices must have rank >= 1");
    if (a->axis < 0 || a->axis >= (q < r ? q : r))
        return ot_op_error(c, OT_ERR_SHAPE, "batch_dims %lld must be in [0, min(%d, %d))", (long long)a->axis, r, q);
    *b = (int)a->axis;
    if (ind->dims[q - 1] < 1 || ind->dims[q - 1] > r - *b)
        return ot_op_error(c, OT_ERR_SHAPE, "the last dimension of indices (%lld) must be in [1, %d]",
                           (long long)ind->dims[q - 1], r - *b);
    *k = (int)ind->dims[q - 1];
    for (int d = 0; d < *b; d++)
        if (ind->dims[d] != a->shape[d])
            return ot_op_error(c, OT_ERR_SHAPE, "batch dimension %d differs: data has %lld, indices %lld", d,
                               (long long)a->shape[d], (long long)ind->dims[d]);
    int64_t want[2 * OT_MAX_RANK];
    int n = 0;
    for (int d = 0; d < q - 1; d++) want[n++] = ind->dims[d];
    for (int d = *b + *k; d < r; d++) want[n++] = a->shape[d];
    OT_TRY(ot_check_dy(c, n, want));
    if (ind->data) OT_TRY(check_indices(c, *k, &a->shape[*b], *b));
    return OT_OK;
}

ot_status ot_gather_nd_grad_infer(ot_kctx *c) {
    int b, k;
    OT_TRY(nd_grad_check(c, &b, &k));
    set_dx(c);
    return OT_OK;
}

ot_status ot_gather_nd_grad_cpu(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *ind = c->in[1], *dy = c->in[0];
    ot_tensor *dx = c->out[0];
    int b, k;
    OT_TRY(nd_grad_check(c, &b, &k));
    memset(dx->data, 0, ot_tensor_nbytes(dx));
    const size_t es = ot_dtype_size(dx->dtype), is = ot_dtype_size(ind->dtype);
    const int64_t batch = prod(a->shape, 0, b), slice = prod(a->shape, b + k, a->rank);
    const int64_t block = prod(a->shape, b, a->rank), tuples = prod(ind->dims, b, ind->rank - 1);
    const ot_combine_fn add = ot_cpu_combine_fn(dx->dtype, OT_REDUCE_ADD);
    /* Batch entries write disjoint blocks of dx. */
#pragma omp parallel for schedule(static) if (batch > 1 && block * batch * (int64_t)es > ((int64_t)1 << 16))
    for (int64_t e = 0; e < batch; e++)
        ot_cpu_scatter_nd((char *)dx->data + (size_t)(e * block) * es, es, add, k, &a->shape[b], slice,
                          (const char *)ind->data + (size_t)(e * tuples * k) * is, ind->dtype == OT_INT64, tuples,
                          (const char *)dy->data + (size_t)(e * tuples * slice) * es);
    return OT_OK;
}

/* ---- ScatterElementsGrad / ScatterNDGrad ---------------------------------------------------- */

ot_status ot_scatter_elements_grad_infer(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *dy = c->in[0];
    int axis;
    if (!ot_dtype_size(dy->dtype)) return ot_op_error(c, OT_ERR_UNSUPPORTED, "dy has type %s", ot_dtype_name(dy->dtype));
    if (dy->rank < 1 || a->axis < -dy->rank || a->axis >= dy->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)a->axis, dy->rank);
    axis = (int)(a->axis < 0 ? a->axis + dy->rank : a->axis);
    OT_TRY(elements_check(c, dy->rank, dy->dims, axis));
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    ot_set_out(c, 1, dy->dtype, c->in[1]->rank, c->in[1]->dims);
    return OT_OK;
}

ot_status ot_scatter_elements_grad_cpu(ot_kctx *c) {
    const ot_index_grad_attrs *a = c->attrs;
    const ot_tensor *dy = c->in[0], *ind = c->in[1];
    ot_tensor *dd = ot_out(c, 0), *du = ot_out(c, 1);
    int axis = (int)(a->axis < 0 ? a->axis + dy->rank : a->axis);
    OT_TRY(elements_check(c, dy->rank, dy->dims, axis));
    ot_status s = ot_cpu_scatter_elements_grad(ot_dtype_size(dy->dtype), dy->rank, dy->dims, ind->dims, axis, ind->data,
                                               ind->dtype == OT_INT64, dy->data, dd ? dd->data : NULL,
                                               du ? du->data : NULL);
    return s ? ot_op_error(c, s, "%s", ot_last_error()) : OT_OK;
}

static ot_status scatter_nd_check(ot_kctx *c, int *k) {
    const ot_tensor *dy = c->in[0], *ind = c->in[1];
    OT_TRY(ot_check_dtype(c, 1, idx_types));
    if (!ot_dtype_size(dy->dtype)) return ot_op_error(c, OT_ERR_UNSUPPORTED, "dy has type %s", ot_dtype_name(dy->dtype));
    if (dy->rank < 1 || ind->rank < 1) return ot_op_error(c, OT_ERR_SHAPE, "dy and indices must have rank >= 1");
    *k = (int)ind->dims[ind->rank - 1];
    if (*k < 1 || *k > dy->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "the last dimension of indices (%d) must be in [1, %d]", *k, dy->rank);
    if (ind->rank - 1 + dy->rank - *k > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "updates rank exceeds the maximum %d", OT_MAX_RANK);
    if (ind->data) OT_TRY(check_indices(c, *k, dy->dims, 0));
    return OT_OK;
}

ot_status ot_scatter_nd_grad_infer(ot_kctx *c) {
    const ot_tensor *dy = c->in[0], *ind = c->in[1];
    int k;
    OT_TRY(scatter_nd_check(c, &k));
    int64_t ud[OT_MAX_RANK];
    int n = 0;
    for (int d = 0; d < ind->rank - 1; d++) ud[n++] = ind->dims[d];
    for (int d = k; d < dy->rank; d++) ud[n++] = dy->dims[d];
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    ot_set_out(c, 1, dy->dtype, n, ud);
    return OT_OK;
}

ot_status ot_scatter_nd_grad_cpu(ot_kctx *c) {
    const ot_tensor *dy = c->in[0], *ind = c->in[1];
    ot_tensor *dd = ot_out(c, 0), *du = ot_out(c, 1);
    int k;
    OT_TRY(scatter_nd_check(c, &k));
    ot_status s = ot_cpu_scatter_nd_grad(ot_dtype_size(dy->dtype), k, dy->dims, prod(dy->dims, k, dy->rank), ind->data,
                                         ind->dtype == OT_INT64, prod(ind->dims, 0, ind->rank - 1), dy->data,
                                         dd ? dd->data : NULL, du ? du->data : NULL);
    return s ? ot_op_error(c, s, "%s", ot_last_error()) : OT_OK;
}
