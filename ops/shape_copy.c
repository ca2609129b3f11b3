/* Op family: shape — the ops that copy a strided view of their inputs:
 * Concat, Split, Slice, Expand, Tile.  Each is one or a few calls of
 * ot_k_copy_strided (kernels/cpu/shape.c) with the right strides. */
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "shape_ops.h"

/* ---- Concat --------------------------------------------------------------------- */

ot_status ot_concat_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_axis_attrs *a = attrs;
    (void)opset;
    if (!ot_node_attr(n, "axis")) return ot_node_error(n, OT_ERR_PARSE, "attribute 'axis' is required");
    return ot_attr_get_int(n, "axis", 0, &a->axis);
}

ot_status ot_concat_infer(ot_kctx *c) {
    const ot_tensor *x0 = ot_in(c, 0);
    int axis;
    int64_t dims[OT_MAX_RANK];
    if (!x0) return ot_op_error(c, OT_ERR_SHAPE, "input 0 is absent");
    OT_TRY(ot_shape_check_movable(c, 0));
    if (x0->rank == 0) return ot_op_error(c, OT_ERR_SHAPE, "cannot concatenate scalars (rank 0)");
    if (ot_axis_normalize(((const ot_axis_attrs *)c->attrs)->axis, x0->rank, &axis))
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d",
                           (long long)((const ot_axis_attrs *)c->attrs)->axis, x0->rank);
    memcpy(dims, x0->dims, sizeof(int64_t) * (size_t)x0->rank);
    dims[axis] = 0;
    for (int i = 0; i < c->n_in; i++) {
        const ot_tensor *x = c->in[i];
        if (!x) return ot_op_error(c, OT_ERR_SHAPE, "input %d is absent", i);
        if (x->dtype != x0->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "input %d has type %s, input 0 has %s", i, ot_dtype_name(x->dtype),
                               ot_dtype_name(x0->dtype));
        if (x->rank != x0->rank)
            return ot_op_error(c, OT_ERR_SHAPE, "input %d has rank %d, input 0 has rank %d", i, x->rank, x0->rank);
        for (int k = 0; k < x->rank; k++)
            if (k != axis && x->dims[k] != x0->dims[k]) {
                char b0[160], bi[160];
                return ot_op_error(c, OT_ERR_SHAPE, "input %d of shape %s does not fit input 0 of shape %s off axis %d",
                                   i, ot_shape_str(x->rank, x->dims, bi, sizeof bi),
                                   ot_shape_str(x0->rank, x0->dims, b0, sizeof b0), axis);
            }
        if (x->dims[axis] > OT_MAX_NUMEL - dims[axis]) return ot_op_error(c, OT_ERR_NOMEM, "output too large");
        dims[axis] += x->dims[axis];
    }
    return ot_shape_set_out(c, 0, x0->dtype, x0->rank, dims);
}

ot_status ot_concat_cpu(ot_kctx *c) {
    ot_tensor *y = c->out[0];
    int axis;
    int64_t ys[OT_MAX_RANK], xs[OT_MAX_RANK], at = 0;
    size_t es = ot_dtype_size(y->dtype);
    OT_TRY(ot_axis_normalize(((const ot_axis_attrs *)c->attrs)->axis, y->rank, &axis));
    ot_shape_strides(y->rank, y->dims, ys);
    for (int i = 0; i < c->n_in; i++) {
        const ot_tensor *x = c->in[i];
        ot_shape_strides(x->rank, x->dims, xs);
        ot_k_copy_strided((char *)y->data + at * ys[axis] * (int64_t)es, ys, x->data, xs, x->rank, x->dims, es);
        at += x->dims[axis];
    }
    return OT_OK;
}

/* ---- Split ---------------------------------------------------------------------- */

ot_status ot_split_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_split_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "axis", 0, &a->axis));
    OT_TRY(ot_attr_get_int(n, "num_outputs", 0, &a->num_outputs));
    a->has_split_attr = ot_node_attr(n, "split") != NULL;
    if (a->has_split_attr && opset >= 13)
        return ot_node_error(n, OT_ERR_PARSE, "from opset 13 'split' is an input, not an attribute");
    if (ot_node_attr(n, "num_outputs")) {
        if (opset < 18) return ot_node_error(n, OT_ERR_PARSE, "attribute 'num_outputs' needs opset 18");
        if (a->num_outputs != n->n_outputs)
            return ot_node_error(n, OT_ERR_PARSE, "num_outputs is %lld but the node has %d outputs",
                                 (long long)a->num_outputs, n->n_outputs);
    }
    if (a->has_split_attr) {
        const int64_t *s;
        int cnt;
        OT_TRY(ot_attr_get_ints(n, "split", &s, &cnt));
        if (cnt != n->n_outputs)
            return ot_node_error(n, OT_ERR_PARSE, "'split' has %d entries but the node has %d outputs", cnt,
                                 n->n_outputs);
    }
    return OT_OK;
}

/* Where the sizes come from: a list (attribute or input) or equal chunks. */
typedef struct {
    int axis;
    const int64_t *list;     /* split attribute */
    const ot_tensor *tlist;  /* split input */
    int64_t chunk, dim;      /* equal chunks of `chunk`, the last one what is left of `dim` */
} ot_split_plan;

static ot_status ot_split_plan_make(ot_kctx *c, ot_split_plan *p) {
    const ot_split_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    int n = c->n_out;
    memset(p, 0, sizeof *p);
    if (ot_axis_normalize(a->axis, x->rank, &p->axis) || x->rank == 0)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)a->axis, x->rank);
    p->dim = x->dims[p->axis];
    if (a->has_split_attr) {
        int cnt;
        return ot_attr_get_ints(c->node, "split", &p->list, &cnt);
    }
    const ot_tensor *t = ot_in(c, 1);
    if (t && a->num_outputs)
        return ot_op_error(c, OT_ERR_SHAPE, "give either the 'split' input or 'num_outputs', not both");
    if (t && c->opset >= 13) {
        if (t->dtype != OT_INT64 && t->dtype != OT_INT32)
            return ot_op_error(c, OT_ERR_TYPE, "input 'split' must be int64, got %s", ot_dtype_name(t->dtype));
        if (t->rank > 1) return ot_op_error(c, OT_ERR_SHAPE, "input 'split' must be 1-D");
        OT_TRY(ot_need_value(c, 1));
        if (ot_tensor_numel(t) != n)
            return ot_op_error(c, OT_ERR_SHAPE, "'split' has %lld entries but the node has %d outputs",
                               (long long)ot_tensor_numel(t), n);
        p->tlist = t;
        return OT_OK;
    }
    if (t) return ot_op_error(c, OT_ERR_UNSUPPORTED, "a 'split' input needs opset 13 (earlier it is an attribute)");
    if (c->opset >= 18) { /* the last chunk may be smaller */
        p->chunk = (p->dim + n - 1) / n;
        if (p->dim - p->chunk * (n - 1) < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "a dim of %lld cannot be split into %d chunks of %lld",
                               (long long)p->dim, n, (long long)p->chunk);
    } else {
        if (p->dim % n)
            return ot_op_error(c, OT_ERR_SHAPE, "a dim of %lld does not split into %d equal parts", (long long)p->dim,
                               n);
        p->chunk = p->dim / n;
    }
    return OT_OK;
}

static int64_t ot_split_size(const ot_split_plan *p, int i, int n) {
    if (p->list) return p->list[i];
    if (p->tlist) return ot_load_i64(p->tlist->dtype, p->tlist->data, i);
    return i == n - 1 ? p->dim - p->chunk * (n - 1) : p->chunk;
}

ot_status ot_split_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_split_plan p;
    int64_t dims[OT_MAX_RANK], sum = 0;
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_split_plan_make(c, &p));
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    for (int i = 0; i < c->n_out; i++) {
        int64_t s = ot_split_size(&p, i, c->n_out);
        if (s < 0 || s > p.dim - sum)
            return ot_op_error(c, OT_ERR_SHAPE, "split sizes do not fit a dim of %lld (entry %d is %lld)",
                               (long long)p.dim, i, (long long)s);
        sum += s;
        dims[p.axis] = s;
        OT_TRY(ot_shape_set_out(c, i, x->dtype, x->rank, dims));
    }
    if (sum != p.dim)
        return ot_op_error(c, OT_ERR_SHAPE, "split sizes add up to %lld, not the dim %lld", (long long)sum,
                           (long long)p.dim);
    return OT_OK;
}

ot_status ot_split_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_split_plan p;
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK], at = 0;
    size_t es = ot_dtype_size(x->dtype);
    OT_TRY(ot_split_plan_make(c, &p));
    ot_shape_strides(x->rank, x->dims, xs);
    for (int i = 0; i < c->n_out; i++) {
        int64_t s = ot_split_size(&p, i, c->n_out);
        ot_tensor *y = c->out[i];
        if (y) {
            ot_shape_strides(y->rank, y->dims, ys);
            ot_k_copy_strided(y->data, ys, (const char *)x->data + at * xs[p.axis] * (int64_t)es, xs, y->rank,
                              y->dims, es);
        }
        at += s;
    }
    return OT_OK;
}

/* ---- Slice ---------------------------------------------------------------------- */

static ot_status ot_slice_attr_list(const ot_node *n, const char *name, int64_t *out, int *count) {
    const int64_t *v;
    OT_TRY(ot_attr_get_ints(n, name, &v, count));
    if (*count > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_SHAPE, "'%s' has %d entries, more than the rank limit %d", name, *count,
                             OT_MAX_RANK);
    for (int k = 0; k < *count; k++) out[k] = v[k];
    return OT_OK;
}

ot_status ot_slice_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_slice_attrs *a = attrs;
    int ne;
    bool any = ot_node_attr(n, "starts") || ot_node_attr(n, "ends") || ot_node_attr(n, "axes");
    if (opset >= 10) {
        if (any) return ot_node_error(n, OT_ERR_PARSE, "from opset 10 starts/ends/axes are inputs, not attributes");
        return OT_OK;
    }
    OT_TRY(ot_slice_attr_list(n, "starts", a->starts, &a->n));
    OT_TRY(ot_slice_attr_list(n, "ends", a->ends, &ne));
    OT_TRY(ot_slice_attr_list(n, "axes", a->axes, &a->n_axes));
    if (a->n < 0 || ne < 0) return ot_node_error(n, OT_ERR_PARSE, "attributes 'starts' and 'ends' are required");
    if (ne != a->n || (a->n_axes >= 0 && a->n_axes != a->n))
        return ot_node_error(n, OT_ERR_PARSE, "starts, ends and axes must have the same length");
    return OT_OK;
}

/* Per axis of an input of dims (r, dims): first index, step and count of the
   slice.  The bounds come from the opset < 10 attributes `a` (from_attrs) or
   from inputs 1..4 (starts, ends, axes, steps) of c.  Slice resolves its own
   input's slice here; SliceGrad resolves the forward's with the same code. */
ot_status ot_slice_resolve(ot_kctx *c, const ot_slice_attrs *a, bool from_attrs, int r, const int64_t *dims,
                           int64_t *start, int64_t *step, int64_t *count) {
    int64_t starts[OT_MAX_RANK], ends[OT_MAX_RANK], axes[OT_MAX_RANK], steps[OT_MAX_RANK];
    int n, ne, na = -1, ns = -1;
    bool seen[OT_MAX_RANK] = {0};
    if (from_attrs) {
        n = ne = a->n;
        na = a->n_axes;
        memcpy(starts, a->starts, sizeof starts);
        memcpy(ends, a->ends, sizeof ends);
        memcpy(axes, a->axes, sizeof axes);
    } else {
        if (!ot_in(c, 1) || !ot_in(c, 2)) return ot_op_error(c, OT_ERR_SHAPE, "inputs 'starts' and 'ends' are required");
        OT_TRY(ot_shape_read_ints(c, 1, "starts", starts, OT_MAX_RANK, &n));
        OT_TRY(ot_shape_read_ints(c, 2, "ends", ends, OT_MAX_RANK, &ne));
        if (ot_in(c, 3)) OT_TRY(ot_shape_read_ints(c, 3, "axes", axes, OT_MAX_RANK, &na));
        if (ot_in(c, 4)) OT_TRY(ot_shape_read_ints(c, 4, "steps", steps, OT_MAX_RANK, &ns));
    }
    if (ne != n || (na >= 0 && na != n) || (ns >= 0 && ns != n))
        return ot_op_error(c, OT_ERR_SHAPE, "starts, ends, axes and steps must have the same length");
    for (int k = 0; k < r; k++) {
        start[k] = 0;
        step[k] = 1;
        count[k] = dims[k];
    }
    for (int i = 0; i < n; i++) {
        int64_t ax = na >= 0 ? axes[i] : i, st = ns >= 0 ? steps[i] : 1;
        if (ax < -r || ax >= r)
            return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)ax, r);
        if (ax < 0) ax += r;
        if (seen[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is sliced twice", (long long)ax);
        seen[ax] = true;
        if (st == 0) return ot_op_error(c, OT_ERR_SHAPE, "step 0 on axis %lld", (long long)ax);
        int64_t d = dims[ax], s = starts[i], e = ends[i], cnt;
        if (s < 0) s += d; /* cannot overflow: d >= 0 */
        if (e < 0) e += d;
        if (st > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            cnt = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            uint64_t as = (uint64_t)(-(st + 1)) + 1; /* |step| without overflow at INT64_MIN */
            cnt = s > e ? (int64_t)((uint64_t)(s - e - 1) / as) + 1 : 0;
        }
        start[ax] = cnt ? s : 0;
        step[ax] = st;
        count[ax] = cnt;
    }
    return OT_OK;
}

static ot_status ot_slice_params(ot_kctx *c, int64_t *start, int64_t *step, int64_t *count) {
    if (c->opset < 10 && c->n_in > 1) return ot_op_error(c, OT_ERR_UNSUPPORTED, "Slice takes one input before opset 10");
    return ot_slice_resolve(c, c->attrs, c->opset < 10, c->in[0]->rank, c->in[0]->dims, start, step, count);
}

ot_status ot_slice_infer(ot_kctx *c) {
    int64_t start[OT_MAX_RANK], step[OT_MAX_RANK], count[OT_MAX_RANK];
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_slice_params(c, start, step, count));
    return ot_shape_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, count);
}

ot_status ot_slice_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    int64_t start[OT_MAX_RANK], step[OT_MAX_RANK], count[OT_MAX_RANK];
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK], ss[OT_MAX_RANK], off = 0;
    size_t es = ot_dtype_size(x->dtype);
    OT_TRY(ot_slice_params(c, start, step, count));
    ot_shape_strides(x->rank, x->dims, xs);
    ot_shape_strides(y->rank, y->dims, ys);
    for (int k = 0; k < x->rank; k++) {
        off += start[k] * xs[k];
        ss[k] = step[k] == 1 || count[k] <= 1 ? xs[k] : xs[k] * step[k];
    }
    if (ot_shape_count(y->rank, y->dims) == 0) return OT_OK;
    ot_k_copy_strided(y->data, ys, (const char *)x->data + off * (int64_t)es, ss, y->rank, y->dims, es);
    return OT_OK;
}

/* ---- Expand ----------------------------------------------------------------------- */

ot_status ot_expand_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int64_t shape[OT_MAX_RANK], dims[OT_MAX_RANK];
    int n, r;
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_shape_read_ints(c, 1, "shape", shape, OT_MAX_RANK, &n));
    for (int k = 0; k < n; k++)
        if (shape[k] < 0) return ot_op_error(c, OT_ERR_SHAPE, "shape[%d] = %lld is negative", k, (long long)shape[k]);
    if (ot_shape_broadcast(x->rank, x->dims, n, shape, &r, dims)) {
        char bx[160], bs[160];
        return ot_op_error(c, OT_ERR_SHAPE, "input shape %s cannot be expanded to %s",
                           ot_shape_str(x->rank, x->dims, bx, sizeof bx), ot_shape_str(n, shape, bs, sizeof bs));
    }
    return ot_shape_set_out(c, 0, x->dtype, r, dims);
}

ot_status ot_expand_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    int64_t ss[OT_MAX_RANK], ys[OT_MAX_RANK];
    ot_shape_broadcast_strides(x->rank, x->dims, y->rank, y->dims, ss);
    ot_shape_strides(y->rank, y->dims, ys);
    ot_k_copy_strided(y->data, ys, x->data, ss, y->rank, y->dims, ot_dtype_size(x->dtype));
    return OT_OK;
}

/* ---- Tile ------------------------------------------------------------------------- */

ot_status ot_tile_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int64_t reps[OT_MAX_RANK], dims[OT_MAX_RANK];
    int n;
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_shape_read_ints(c, 1, "repeats", reps, OT_MAX_RANK, &n));
    if (n != x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "'repeats' has %d entries for an input of rank %d", n, x->rank);
    for (int k = 0; k < n; k++) {
        if (reps[k] < 0) return ot_op_error(c, OT_ERR_SHAPE, "repeats[%d] = %lld is negative", k, (long long)reps[k]);
        if (x->dims[k] && reps[k] > OT_MAX_NUMEL / x->dims[k]) return ot_op_error(c, OT_ERR_NOMEM, "output too large");
        dims[k] = x->dims[k] * reps[k];
    }
    return ot_shape_set_out(c, 0, x->dtype, n, dims);
}

ot_status ot_tile_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    int r = x->rank;
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK];
    int64_t box[OT_K_COPY_MAX_RANK], ds[OT_K_COPY_MAX_RANK], ss[OT_K_COPY_MAX_RANK];
    ot_shape_strides(r, x->dims, xs);
    ot_shape_strides(r, y->dims, ys);
    /* y viewed as (reps_0, d_0, reps_1, d_1, ...): the repeat index moves
       through y in steps of whole copies and stays put in x. */
    for (int k = 0; k < r; k++) {
        int64_t reps = x->dims[k] ? y->dims[k] / x->dims[k] : 0;
        box[2 * k] = reps;
        ds[2 * k] = x->dims[k] * ys[k];
        ss[2 * k] = 0;
        box[2 * k + 1] = x->dims[k];
        ds[2 * k + 1] = ys[k];
        ss[2 * k + 1] = xs[k];
    }
    ot_k_copy_strided(y->data, ds, x->data, ss, 2 * r, box, ot_dtype_size(x->dtype));
    return OT_OK;
}
