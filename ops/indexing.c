/* Op family: indexing — Gather, GatherElements, GatherND, ScatterElements,
 * Scatter (deprecated alias), ScatterND, Compress, NonZero, TopK.
 *
 * Every index is validated before anything is written, so an out-of-range
 * index is an error naming the node, the index position and its value, and
 * the output is never half-updated.  Negative indices wrap as in numpy. */
#include <stdio.h>
#include <string.h>

#include "grad.h"
#include "indexing_ops.h"
#include "src/core/alloc.h"

static const ot_dtype IDX_TYPES[] = {OT_INT32, OT_INT64, OT_UNDEFINED};

static int64_t prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int d = from; d < to; d++) p *= dims[d];
    return p;
}

static ot_status need_rank(const ot_kctx *c, int i, const char *what, int min_rank) {
    if (c->in[i]->rank < min_rank)
        return ot_op_error(c, OT_ERR_SHAPE, "%s must have rank >= %d, got rank %d", what, min_rank, c->in[i]->rank);
    return OT_OK;
}

static ot_status norm_axis(const ot_kctx *c, int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return OT_OK;
}

/* Data inputs may be of any type with a fixed element size (not string). */
static ot_status check_data(const ot_kctx *c, int i) {
    if (!ot_dtype_size(c->in[i]->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %d has type %s, which this op does not support", i,
                           ot_dtype_name(c->in[i]->dtype));
    return OT_OK;
}

static ot_status check_same_type(const ot_kctx *c, int a, int b) {
    if (c->in[a]->dtype != c->in[b]->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "inputs %d and %d must have the same type, got %s and %s", a, b,
                           ot_dtype_name(c->in[a]->dtype), ot_dtype_name(c->in[b]->dtype));
    return OT_OK;
}

/* Checks every index of in[input]: element p is an index into axis
   axis0 + p % nb of data, whose size is bounds[p % nb]. */
static ot_status check_indices(const ot_kctx *c, int input, int nb, const int64_t *bounds, int axis0) {
    const ot_tensor *t = c->in[input], *data = c->in[0];
    const bool i64 = t->dtype == OT_INT64;
    const int64_t n = ot_tensor_numel(t);
    int64_t bad = n; /* the first bad position, found in parallel for big index tensors */
#pragma omp parallel for schedule(static) reduction(min : bad) if (n > ((int64_t)1 << 16))
    for (int64_t p = 0; p < n; p++) {
        int64_t v = ot_idx_at(t->data, i64, p), b = nb == 1 ? bounds[0] : bounds[p % nb];
        if ((v < -b || v >= b) && p < bad) bad = p;
    }
    if (bad < n) {
        const int64_t p = bad, v = ot_idx_at(t->data, i64, p), b = bounds[p % nb];
        char pos[160], shape[160];
        int len = 0;
        int64_t rest = p;
        int64_t coord[OT_MAX_RANK];
        for (int d = t->rank - 1; d >= 0; d--) {
            coord[d] = t->dims[d] ? rest % t->dims[d] : 0;
            rest = t->dims[d] ? rest / t->dims[d] : 0;
        }
        pos[0] = 0;
        for (int d = 0; d < t->rank && len < (int)sizeof pos - 24; d++)
            len += snprintf(pos + len, sizeof pos - (size_t)len, "%s%lld", d ? ", " : "", (long long)coord[d]);
        return ot_op_error(c, OT_ERR_INVALID_ARG,
                           "index %lld (input %d at [%s]) is out of range [%lld, %lld) for axis %d of data %s",
                           (long long)v, input, pos, (long long)-b, (long long)b, axis0 + (int)(p % nb),
                           ot_shape_str(data->rank, data->dims, shape, sizeof shape));
    }
    return OT_OK;
}

/* ---- attributes ------------------------------------------------------------- */

typedef ot_index_attrs axis_attrs; /* indexing_ops.h */

static ot_status parse_reduction(const ot_node *n, int64_t opset, ot_scatter_reduce *out) {
    const char *s;
    OT_TRY(ot_attr_get_string(n, "reduction", "none", &s));
    *out = OT_REDUCE_NONE;
    if (!ot_node_attr(n, "reduction")) return OT_OK;
    if (opset < 16)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "attribute 'reduction' exists from opset 16 (the model uses %lld)",
                             (long long)opset);
    if (!strcmp(s, "none")) *out = OT_REDUCE_NONE;
    else if (!strcmp(s, "add")) *out = OT_REDUCE_ADD;
    else if (!strcmp(s, "mul")) *out = OT_REDUCE_MUL;
    else if (!strcmp(s, "max") && opset >= 18) *out = OT_REDUCE_MAX;
    else if (!strcmp(s, "min") && opset >= 18) *out = OT_REDUCE_MIN;
    else
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "reduction '%s' is not supported at opset %lld (none, add, mul%s)", s,
                             (long long)opset, opset >= 18 ? ", max, min" : "; max and min need opset 18");
    return OT_OK;
}

static ot_status parse_axis(const ot_node *n, int64_t opset, void *attrs) {
    axis_attrs *a = attrs;
    (void)opset;
    a->reduction = OT_REDUCE_NONE;
    return ot_attr_get_int(n, "axis", 0, &a->axis);
}

static ot_status parse_scatter_elements(const ot_node *n, int64_t opset, void *attrs) {
    axis_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "axis", 0, &a->axis));
    return parse_reduction(n, opset, &a->reduction);
}

static ot_status parse_scatter_nd(const ot_node *n, int64_t opset, void *attrs) {
    axis_attrs *a = attrs;
    a->axis = 0;
    return parse_reduction(n, opset, &a->reduction);
}

static ot_status parse_gather_nd(const ot_node *n, int64_t opset, void *attrs) {
    axis_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "batch_dims", 0, &a->axis));
    if (opset < 12 && ot_node_attr(n, "batch_dims"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "attribute 'batch_dims' exists from opset 12 (the model uses %lld)",
                             (long long)opset);
    if (a->axis < 0) return ot_node_error(n, OT_ERR_PARSE, "batch_dims must be >= 0, got %lld", (long long)a->axis);
    return OT_OK;
}

/* ---- Gather ------------------------------------------------------------------- */

static ot_status gather_infer(ot_kctx *c) {
    const axis_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_check_dtype(c, 1, IDX_TYPES));
    OT_TRY(need_rank(c, 0, "data", 1));
    int axis = 0, r = x->rank, q = ind->rank;
    OT_TRY(norm_axis(c, a->axis, r, &axis));
    if (q + r - 1 > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", q + r - 1, OT_MAX_RANK);
    int64_t dims[OT_MAX_RANK];
    int k = 0;
    for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
    for (int d = 0; d < q; d++) dims[k++] = ind->dims[d];
    for (int d = axis + 1; d < r; d++) dims[k++] = x->dims[d];
    if (ind->data) OT_TRY(check_indices(c, 1, 1, &x->dims[axis], axis));
    ot_set_out(c, 0, x->dtype, k, dims);
    return OT_OK;
}

static ot_status gather_cpu(ot_kctx *c) {
    const axis_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    int axis = 0;
    OT_TRY(norm_axis(c, a->axis, x->rank, &axis));
    OT_TRY(check_indices(c, 1, 1, &x->dims[axis], axis));
    ot_cpu_gather(x->data, ot_dtype_size(x->dtype), prod(x->dims, 0, axis), x->dims[axis],
                  prod(x->dims, axis + 1, x->rank), ind->data, ind->dtype == OT_INT64, ot_tensor_numel(ind),
                  c->out[0]->data);
    return OT_OK;
}

/* ---- GatherElements / ScatterElements ------------------------------------------ */

/* Indices have data's rank; off the axis they may not exceed data's dims. */
static ot_status elements_shapes(const ot_kctx *c, int *axis) {
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    const axis_attrs *a = c->attrs;
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_check_dtype(c, 1, IDX_TYPES));
    OT_TRY(need_rank(c, 0, "data", 1));
    OT_TRY(norm_axis(c, a->axis, x->rank, axis));
    char sx[160], si[160];
    if (ind->rank != x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "indices %s must have the rank of data %s",
                           ot_shape_str(ind->rank, ind->dims, si, sizeof si), ot_shape_str(x->rank, x->dims, sx, sizeof sx));
    for (int d = 0; d < x->rank; d++)
        if (d != *axis && ind->dims[d] > x->dims[d])
            return ot_op_error(c, OT_ERR_SHAPE, "indices %s exceed data %s along axis %d",
                               ot_shape_str(ind->rank, ind->dims, si, sizeof si),
                               ot_shape_str(x->rank, x->dims, sx, sizeof sx), d);
    if (ind->data) OT_TRY(check_indices(c, 1, 1, &x->dims[*axis], *axis));
    return OT_OK;
}

static ot_status gather_elements_infer(ot_kctx *c) {
    int axis = 0;
    OT_TRY(elements_shapes(c, &axis));
    ot_set_out(c, 0, c->in[0]->dtype, c->in[1]->rank, c->in[1]->dims);
    return OT_OK;
}

static ot_status gather_elements_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    int axis = 0;
    OT_TRY(norm_axis(c, ((const axis_attrs *)c->attrs)->axis, x->rank, &axis));
    OT_TRY(check_indices(c, 1, 1, &x->dims[axis], axis));
    ot_cpu_gather_elements(x->data, ot_dtype_size(x->dtype), x->rank, x->dims, ind->dims, axis, ind->data,
                           ind->dtype == OT_INT64, c->out[0]->data);
    return OT_OK;
}

static const char *reduce_name(ot_scatter_reduce r) {
    static const char *names[] = {"none", "add", "mul", "max", "min"};
    return names[r];
}

/* Updates match data's type; the reduction has arithmetic for that type. */
static ot_status scatter_common(const ot_kctx *c) {
    const axis_attrs *a = c->attrs;
    OT_TRY(check_data(c, 2));
    OT_TRY(check_same_type(c, 0, 2));
    if (!ot_cpu_combine_fn(c->in[0]->dtype, a->reduction))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "reduction '%s' is not supported for type %s",
                           reduce_name(a->reduction), ot_dtype_name(c->in[0]->dtype));
    return OT_OK;
}

static ot_status scatter_elements_infer(ot_kctx *c) {
    int axis = 0;
    OT_TRY(elements_shapes(c, &axis));
    OT_TRY(scatter_common(c));
    const ot_tensor *ind = c->in[1], *upd = c->in[2];
    if (!ot_shape_equal(ind->rank, ind->dims, upd->rank, upd->dims)) {
        char si[160], su[160];
        return ot_op_error(c, OT_ERR_SHAPE, "updates %s must have the shape of indices %s",
                           ot_shape_str(upd->rank, upd->dims, su, sizeof su),
                           ot_shape_str(ind->rank, ind->dims, si, sizeof si));
    }
    ot_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return OT_OK;
}

/* The output starts as a copy of data (skipped when the planner ran in place). */
static void copy_data_to_out(const ot_kctx *c) {
    if (c->out[0]->data != c->in[0]->data) memcpy(c->out[0]->data, c->in[0]->data, ot_tensor_nbytes(c->in[0]));
}

static ot_status scatter_elements_cpu(ot_kctx *c) {
    const axis_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    int axis = 0;
    OT_TRY(norm_axis(c, a->axis, x->rank, &axis));
    OT_TRY(check_indices(c, 1, 1, &x->dims[axis], axis));
    copy_data_to_out(c);
    ot_cpu_scatter_elements(c->out[0]->data, ot_dtype_size(x->dtype), ot_cpu_combine_fn(x->dtype, a->reduction),
                            x->rank, x->dims, ind->dims, axis, ind->data, ind->dtype == OT_INT64, c->in[2]->data);
    return OT_OK;
}

/* ---- GatherND / ScatterND ------------------------------------------------------- */

static ot_status gather_nd_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    const int64_t b = ((const axis_attrs *)c->attrs)->axis;
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_check_dtype(c, 1, IDX_TYPES));
    OT_TRY(need_rank(c, 0, "data", 1));
    OT_TRY(need_rank(c, 1, "indices", 1));
    const int r = x->rank, q = ind->rank;
    if (b >= (q < r ? q : r))
        return ot_op_error(c, OT_ERR_SHAPE, "batch_dims %lld must be less than the ranks of data (%d) and indices (%d)",
                           (long long)b, r, q);
    const int64_t k = ind->dims[q - 1];
    if (k < 1 || k > r - b)
        return ot_op_error(c, OT_ERR_SHAPE, "the last dimension of indices (%lld) must be in [1, %lld]", (long long)k,
                           (long long)(r - b));
    for (int d = 0; d < b; d++)
        if (ind->dims[d] != x->dims[d])
            return ot_op_error(c, OT_ERR_SHAPE, "batch dimension %d differs: data has %lld, indices %lld", d,
                               (long long)x->dims[d], (long long)ind->dims[d]);
    int64_t dims[OT_MAX_RANK];
    int n = 0;
    if (q - 1 + r - b - k > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "output rank exceeds the maximum %d", OT_MAX_RANK);
    for (int d = 0; d < q - 1; d++) dims[n++] = ind->dims[d];
    for (int d = (int)(b + k); d < r; d++) dims[n++] = x->dims[d];
    if (ind->data) OT_TRY(check_indices(c, 1, (int)k, &x->dims[b], (int)b));
    ot_set_out(c, 0, x->dtype, n, dims);
    return OT_OK;
}

static ot_status gather_nd_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    const int b = (int)((const axis_attrs *)c->attrs)->axis, q = ind->rank;
    const int k = (int)ind->dims[q - 1];
    OT_TRY(check_indices(c, 1, k, &x->dims[b], b));
    ot_cpu_gather_nd(x->data, ot_dtype_size(x->dtype), prod(x->dims, 0, b), k, &x->dims[b],
                     prod(x->dims, b + k, x->rank), ind->data, ind->dtype == OT_INT64, prod(ind->dims, b, q - 1),
                     c->out[0]->data);
    return OT_OK;
}

static ot_status scatter_nd_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_check_dtype(c, 1, IDX_TYPES));
    OT_TRY(need_rank(c, 0, "data", 1));
    OT_TRY(need_rank(c, 1, "indices", 1));
    OT_TRY(scatter_common(c));
    const int r = x->rank, q = ind->rank;
    const int64_t k = ind->dims[q - 1];
    if (k < 1 || k > r)
        return ot_op_error(c, OT_ERR_SHAPE, "the last dimension of indices (%lld) must be in [1, %d]", (long long)k, r);
    int64_t want[2 * OT_MAX_RANK];
    int n = 0;
    for (int d = 0; d < q - 1; d++) want[n++] = ind->dims[d];
    for (int d = (int)k; d < r; d++) want[n++] = x->dims[d];
    if (!ot_shape_equal(upd->rank, upd->dims, n, want)) {
        char su[160], sw[320];
        return ot_op_error(c, OT_ERR_SHAPE, "updates %s must have shape indices.shape[:-1] + data.shape[%lld:] = %s",
                           ot_shape_str(upd->rank, upd->dims, su, sizeof su), (long long)k,
                           ot_shape_str(n, want, sw, sizeof sw));
    }
    if (ind->data) OT_TRY(check_indices(c, 1, (int)k, x->dims, 0));
    ot_set_out(c, 0, x->dtype, r, x->dims);
    return OT_OK;
}

static ot_status scatter_nd_cpu(ot_kctx *c) {
    const axis_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *ind = c->in[1];
    const int q = ind->rank, k = (int)ind->dims[q - 1];
    OT_TRY(check_indices(c, 1, k, x->dims, 0));
    copy_data_to_out(c);
    ot_cpu_scatter_nd(c->out[0]->data, ot_dtype_size(x->dtype), ot_cpu_combine_fn(x->dtype, a->reduction), k, x->dims,
                      prod(x->dims, k, x->rank), ind->data, ind->dtype == OT_INT64, prod(ind->dims, 0, q - 1),
                      c->in[2]->data);
    return OT_OK;
}

/* ---- Compress ---------------------------------------------------------------- */

typedef struct compress_attrs {
    bool has_axis;
    int64_t axis;
} compress_attrs;

static ot_status parse_compress(const ot_node *n, int64_t opset, void *attrs) {
    compress_attrs *a = attrs;
    (void)opset;
    a->has_axis = ot_node_attr(n, "axis") != NULL;
    return ot_attr_get_int(n, "axis", 0, &a->axis);
}

/* Viewed as (outer, dim, inner) around the compressed axis (flattened: (1, numel, 1)). */
static ot_status compress_view(const ot_kctx *c, int *axis, int64_t *outer, int64_t *dim, int64_t *inner) {
    const compress_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    *axis = -1;
    if (!a->has_axis) {
        *outer = *inner = 1;
        *dim = ot_tensor_numel(x);
        return OT_OK;
    }
    OT_TRY(need_rank(c, 0, "input", 1));
    OT_TRY(norm_axis(c, a->axis, x->rank, axis));
    *outer = prod(x->dims, 0, *axis);
    *dim = x->dims[*axis];
    *inner = prod(x->dims, *axis + 1, x->rank);
    return OT_OK;
}

/* Number of kept positions; a True beyond the axis is an error (as in numpy). */
static ot_status compress_count(const ot_kctx *c, int64_t dim, int64_t *count) {
    const ot_tensor *cond = c->in[1];
    const uint8_t *v = cond->data;
    const int64_t len = ot_tensor_numel(cond);
    int64_t n = 0;
    for (int64_t j = 0; j < len; j++) {
        if (!v[j]) continue;
        if (j >= dim)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "condition[%lld] is true but the axis has only %lld elements",
                               (long long)j, (long long)dim);
        n++;
    }
    *count = n;
    return OT_OK;
}

static ot_status compress_infer(ot_kctx *c) {
    static const ot_dtype bool_only[] = {OT_BOOL, OT_UNDEFINED};
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_check_dtype(c, 1, bool_only));
    if (c->in[1]->rank != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "condition must be 1-D, got rank %d", c->in[1]->rank);
    int axis = 0;
    int64_t outer = 0, dim = 0, inner = 0, count = 0;
    OT_TRY(compress_view(c, &axis, &outer, &dim, &inner));
    OT_TRY(ot_need_value(c, 1));
    OT_TRY(compress_count(c, dim, &count));
    const ot_tensor *x = c->in[0];
    if (axis < 0) {
        ot_set_out(c, 0, x->dtype, 1, &count);
    } else {
        int64_t dims[OT_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = count;
        ot_set_out(c, 0, x->dtype, x->rank, dims);
    }
    return OT_OK;
}

static ot_status compress_cpu(ot_kctx *c) {
    int axis = 0;
    int64_t outer = 0, dim = 0, inner = 0, count = 0;
    OT_TRY(compress_view(c, &axis, &outer, &dim, &inner));
    OT_TRY(compress_count(c, dim, &count));
    const ot_tensor *out = c->out[0];
    if (out->dims[axis < 0 ? 0 : axis] != count)
        return ot_op_error(c, OT_ERR_INTERNAL, "condition changed after the program was compiled (%lld kept, %lld planned)",
                           (long long)count, (long long)out->dims[axis < 0 ? 0 : axis]);
    ot_cpu_compress(c->in[0]->data, ot_dtype_size(c->in[0]->dtype), outer, dim, inner, c->in[1]->data,
                    ot_tensor_numel(c->in[1]), c->out[0]->data);
    return OT_OK;
}

/* ---- NonZero ------------------------------------------------------------------ */

static ot_status nonzero_infer(ot_kctx *c) {
    OT_TRY(check_data(c, 0));
    OT_TRY(ot_need_value(c, 0));
    const ot_tensor *x = c->in[0];
    /* A scalar is treated as shape (1), as numpy's atleast_1d(x).nonzero(). */
    int64_t dims[2] = {x->rank ? x->rank : 1, ot_cpu_count_nonzero(x->dtype, x->data, ot_tensor_numel(x))};
    ot_set_out(c, 0, OT_INT64, 2, dims);
    return OT_OK;
}

static ot_status nonzero_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *out = c->out[0];
    const int64_t nnz = ot_cpu_count_nonzero(x->dtype, x->data, ot_tensor_numel(x));
    if (out->rank != 2 || out->dims[1] != nnz)
        return ot_op_error(c, OT_ERR_INTERNAL, "input changed after the program was compiled (%lld nonzero, %lld planned)",
                           (long long)nnz, (long long)(out->rank == 2 ? out->dims[1] : -1));
    if (x->rank == 0) {
        if (nnz) ((int64_t *)out->data)[0] = 0;
        return OT_OK;
    }
    ot_cpu_nonzero(x->dtype, x->data, x->rank, x->dims, nnz, out->data);
    return OT_OK;
}

/* ---- TopK ---------------------------------------------------------------------- */

typedef struct topk_attrs {
    int64_t axis, largest, sorted;
    int64_t k; /* opset < 10: the attribute; else -1 (input K) */
} topk_attrs;

static ot_status parse_topk(const ot_node *n, int64_t opset, void *attrs) {
    topk_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "axis", -1, &a->axis));
    OT_TRY(ot_attr_get_int(n, "largest", 1, &a->largest));
    OT_TRY(ot_attr_get_int(n, "sorted", 1, &a->sorted));
    OT_TRY(ot_attr_get_int(n, "k", -1, &a->k));
    if (opset < 11 && (ot_node_attr(n, "largest") || ot_node_attr(n, "sorted")))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "attributes 'largest' and 'sorted' exist from opset 11 (the model uses %lld)",
                             (long long)opset);
    if (opset < 10 && a->k < 0)
        return ot_node_error(n, OT_ERR_PARSE, "attribute 'k' (>= 0) is required before opset 10");
    if (opset >= 10 && ot_node_attr(n, "k"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "from opset 10 k is the second input, not an attribute");
    if (a->largest != 0 && a->largest != 1) return ot_node_error(n, OT_ERR_PARSE, "largest must be 0 or 1");
    if (a->sorted != 0 && a->sorted != 1) return ot_node_error(n, OT_ERR_PARSE, "sorted must be 0 or 1");
    /* sorted=0 leaves the order unspecified: returning it sorted is valid. */
    return OT_OK;
}

static ot_status topk_k(ot_kctx *c, bool infer, int64_t *k) {
    const topk_attrs *a = c->attrs;
    if (c->opset < 10) {
        *k = a->k;
        return OT_OK;
    }
    if (!ot_in(c, 1)) return ot_op_error(c, OT_ERR_INVALID_ARG, "input K is required from opset 10");
    OT_TRY(ot_check_dtype(c, 1, IDX_TYPES));
    if (ot_tensor_numel(c->in[1]) != 1 || c->in[1]->rank > 1)
        return ot_op_error(c, OT_ERR_SHAPE, "K must be a 1-D tensor with one element");
    if (infer) OT_TRY(ot_need_value(c, 1));
    *k = ot_idx_at(c->in[1]->data, c->in[1]->dtype == OT_INT64, 0);
    return OT_OK;
}

static ot_status topk_view(ot_kctx *c, bool infer, int *axis, int64_t *k) {
    const ot_tensor *x = c->in[0];
    OT_TRY(need_rank(c, 0, "X", 1));
    OT_TRY(norm_axis(c, ((const topk_attrs *)c->attrs)->axis, x->rank, axis));
    OT_TRY(topk_k(c, infer, k));
    if (*k < 0 || *k > x->dims[*axis])
        return ot_op_error(c, OT_ERR_INVALID_ARG, "k = %lld must be in [0, %lld] (the size of axis %d)", (long long)*k,
                           (long long)x->dims[*axis], *axis);
    return OT_OK;
}

static ot_status topk_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    if (!ot_dtype_is_numeric(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input X has type %s, which this op does not support",
                           ot_dtype_name(x->dtype));
    int axis = 0;
    int64_t k = 0;
    OT_TRY(topk_view(c, true, &axis, &k));
    int64_t dims[OT_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = k;
    ot_set_out(c, 0, x->dtype, x->rank, dims);
    ot_set_out(c, 1, OT_INT64, x->rank, dims);
    return OT_OK;
}

static ot_status topk_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int axis = 0;
    int64_t k = 0;
    OT_TRY(topk_view(c, false, &axis, &k));
    ot_tensor *vals = ot_out(c, 0), *inds = ot_out(c, 1);
    if ((vals && vals->dims[axis] != k) || (inds && inds->dims[axis] != k))
        return ot_op_error(c, OT_ERR_INTERNAL, "K changed after the program was compiled");
    /* An unrequested output still needs somewhere to go. */
    int64_t outer = prod(x->dims, 0, axis), inner = prod(x->dims, axis + 1, x->rank);
    size_t n_out = (size_t)(outer * k * inner);
    void *vbuf = vals ? vals->data : ot_malloc(n_out * ot_dtype_size(x->dtype) + 1);
    int64_t *ibuf = inds ? inds->data : ot_malloc(n_out * sizeof(int64_t) + 1);
    ot_status s = (vbuf && ibuf) ? ot_cpu_topk(x->data, x->dtype, outer, x->dims[axis], inner, k,
                                               ((const topk_attrs *)c->attrs)->largest != 0, vbuf, ibuf)
                                 : ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    if (!vals) ot_free(vbuf);
    if (!inds) ot_free(ibuf);
    return s ? ot_op_error(c, s, "%s", ot_last_error()) : OT_OK;
}

/* ---- the table ------------------------------------------------------------------- */

#define ALL_TYPES "all types but string; indices int32/int64"

const ot_op_def ot_ops_indexing[] = {
    {"Gather", "", 1, 23, 2, 2, 1, 1, "axis", sizeof(axis_attrs), parse_axis, gather_infer, gather_cpu, 0,
     ALL_TYPES, ot_gather_grad_rule},
    {"GatherElements", "", 11, 23, 2, 2, 1, 1, "axis", sizeof(axis_attrs), parse_axis, gather_elements_infer,
     gather_elements_cpu, 0, ALL_TYPES, ot_gather_elements_grad_rule},
    {"GatherND", "", 11, 23, 2, 2, 1, 1, "batch_dims", sizeof(axis_attrs), parse_gather_nd, gather_nd_infer,
     gather_nd_cpu, 0, ALL_TYPES, ot_gather_nd_grad_rule},
    {"ScatterElements", "", 11, 23, 3, 3, 1, 1, "axis,reduction", sizeof(axis_attrs), parse_scatter_elements,
     scatter_elements_infer, scatter_elements_cpu, OT_TRAIT_INPLACE, ALL_TYPES "; reductions: numeric and bool",
     ot_scatter_elements_grad_rule},
    /* Deprecated in opset 11 in favour of ScatterElements, which it equals. */
    {"Scatter", "", 9, 23, 3, 3, 1, 1, "axis", sizeof(axis_attrs), parse_axis, scatter_elements_infer,
     scatter_elements_cpu, OT_TRAIT_INPLACE, ALL_TYPES, ot_scatter_elements_grad_rule},
    {"ScatterND", "", 11, 23, 3, 3, 1, 1, "reduction", sizeof(axis_attrs), parse_scatter_nd, scatter_nd_infer,
     scatter_nd_cpu, OT_TRAIT_INPLACE, ALL_TYPES "; reductions: numeric and bool", ot_scatter_nd_grad_rule},
    {"Compress", "", 9, 23, 2, 2, 1, 1, "axis", sizeof(compress_attrs), parse_compress, compress_infer, compress_cpu,
     0, "all types but string; condition bool"},
    {"NonZero", "", 9, 23, 1, 1, 1, 1, "", 0, NULL, nonzero_infer, nonzero_cpu, 0, "all types but string"},
    {"TopK", "", 1, 24, 1, 2, 2, 2, "axis,largest,sorted,k", sizeof(topk_attrs), parse_topk, topk_infer, topk_cpu, 0,
     "float16, bfloat16, float, double, integers"},
    /* Backward ops (indexing_grad.c documents their inputs and outputs). */
#define OT_GRAD_TYPES "float16, bfloat16, float, double; indices int32/int64"
    {"GatherGrad", OT_DOMAIN_TRAIN, 1, 1, 2, 2, 1, 1, "axis,shape", sizeof(ot_index_grad_attrs), ot_index_grad_parse,
     ot_gather_grad_infer, ot_gather_grad_cpu, 0, OT_GRAD_TYPES},
    {"GatherElementsGrad", OT_DOMAIN_TRAIN, 1, 1, 2, 2, 1, 1, "axis,shape", sizeof(ot_index_grad_attrs),
     ot_index_grad_parse, ot_gather_elements_grad_infer, ot_gather_elements_grad_cpu, 0, OT_GRAD_TYPES},
    {"GatherNDGrad", OT_DOMAIN_TRAIN, 1, 1, 2, 2, 1, 1, "batch_dims,shape", sizeof(ot_index_grad_attrs),
     ot_index_grad_parse, ot_gather_nd_grad_infer, ot_gather_nd_grad_cpu, 0, OT_GRAD_TYPES},
    {"ScatterElementsGrad", OT_DOMAIN_TRAIN, 1, 1, 2, 2, 1, 2, "axis", sizeof(ot_index_grad_attrs), ot_index_grad_parse,
     ot_scatter_elements_grad_infer, ot_scatter_elements_grad_cpu, 0, ALL_TYPES},
    {"ScatterNDGrad", OT_DOMAIN_TRAIN, 1, 1, 2, 2, 1, 2, "", sizeof(ot_index_grad_attrs), ot_index_grad_parse,
     ot_scatter_nd_grad_infer, ot_scatter_nd_grad_cpu, 0, ALL_TYPES},
#undef OT_GRAD_TYPES
};
const int ot_ops_indexing_count = sizeof ot_ops_indexing / sizeof ot_ops_indexing[0];
