/* Op family: shape — the ai.onnxtrain backward ops of the data-movement ops.
 * Each is the adjoint of a forward op and resolves the forward's geometry
 * with the forward's own code (ot_slice_resolve, ot_pad_resolve), so the two
 * can never disagree.  The forward input's shape travels as the attribute
 * `shape`, so inference never needs a value.
 *
 *   SliceGrad(dy, [starts, ends, axes, steps]) -> dx
 *       dx (shape) is zero but for the slice, which holds dy.  The bounds are
 *       the forward's inputs 1..4, read at run time, or (forward opset < 10)
 *       its attributes starts/ends/axes, copied onto this node.
 *   PadGrad(dy, [pads], [unused], [axes]) -> dx
 *       attributes mode (the forward's), shape, and (forward opset < 11)
 *       pads.  constant: dx is the part of dy that came from x (zero where
 *       negative pads cropped x); reflect/edge/wrap: every dy element is
 *       added to the x element it was copied from.
 *   SplitGrad(dy_0, ..., dy_{n-1}) -> dx
 *       attributes axis, split (n sizes).  dx is the concatenation of the
 *       dy_i along axis, with zeros where dy_i is absent (no gradient).
 *   ConcatGrad(dy) -> dx_0, ..., dx_{n-1}: the forward Split's functions with
 *       attributes axis and split (the shape.c table row). */
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "src/core/alloc.h"
#include "src/runtime/workspace.h"
#include "shape_ops.h"

/* The `shape` attribute (required) into rank/dims. */
static ot_status ot_grad_shape_attr(const ot_node *n, int *rank, int64_t *dims) {
    const int64_t *v;
    int cnt;
    OT_TRY(ot_attr_get_ints(n, "shape", &v, &cnt));
    if (cnt < 0) return ot_node_error(n, OT_ERR_PARSE, "attribute 'shape' is required");
    if (cnt > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "'shape' has %d dims; the rank limit is %d", cnt, OT_MAX_RANK);
    for (int k = 0; k < cnt; k++) {
        if (v[k] < 0) return ot_node_error(n, OT_ERR_PARSE, "shape[%d] = %lld is negative", k, (long long)v[k]);
        dims[k] = v[k];
    }
    *rank = cnt;
    return OT_OK;
}

/* Whether inputs from..to-1 that are present all have known values. */
static bool ot_values_known(const ot_kctx *c, int from, int to) {
    for (int i = from; i < to; i++)
        if (ot_in(c, i) && !c->in[i]->data) return false;
    return true;
}

/* ---- SliceGrad -------------------------------------------------------------- */

ot_status ot_slice_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_slice_grad_attrs *a = attrs;
    (void)opset;
    OT_TRY(ot_grad_shape_attr(n, &a->rank, a->shape));
    a->s.n = -1;
    if (!ot_node_attr(n, "starts") && !ot_node_attr(n, "ends")) return OT_OK;
    if (n->n_inputs > 1 && n->inputs[1] >= 0)
        return ot_node_error(n, OT_ERR_PARSE, "give the bounds as attributes or as inputs, not both");
    return ot_slice_parse(n, 9, &a->s); /* the opset 1..9 attribute form */
}

static ot_status ot_slice_grad_params(ot_kctx *c, int64_t *start, int64_t *step, int64_t *count) {
    const ot_slice_grad_attrs *a = c->attrs;
    return ot_slice_resolve(c, &a->s, a->s.n >= 0, a->rank, a->shape, start, step, count);
}

ot_status ot_slice_grad_infer(ot_kctx *c) {
    const ot_slice_grad_attrs *a = c->attrs;
    OT_TRY(ot_shape_check_movable(c, 0));
    if (a->s.n < 0 && (!ot_in(c, 1) || !ot_in(c, 2)))
        return ot_op_error(c, OT_ERR_SHAPE, "needs the attributes starts/ends or inputs 1 and 2");
    if (a->s.n >= 0 || ot_values_known(c, 1, 5)) { /* else checked at run time */
        int64_t start[OT_MAX_RANK], step[OT_MAX_RANK], count[OT_MAX_RANK];
        OT_TRY(ot_slice_grad_params(c, start, step, count));
        OT_TRY(ot_check_dy(c, a->rank, count));
    }
    return ot_shape_set_out(c, 0, c->in[0]->dtype, a->rank, a->shape);
}

ot_status ot_slice_grad_cpu(ot_kctx *c) {
    const ot_tensor *dy = c->in[0];
    ot_tensor *dx = c->out[0];
    int64_t start[OT_MAX_RANK], step[OT_MAX_RANK], count[OT_MAX_RANK];
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK], ds[OT_MAX_RANK], off = 0;
    size_t es = ot_dtype_size(dx->dtype);
    _Alignas(16) unsigned char zero[16] = {0};
    OT_TRY(ot_slice_grad_params(c, start, step, count));
    OT_TRY(ot_check_dy(c, dx->rank, count));
    ot_k_fill(dx->data, ot_tensor_numel(dx), zero, es);
    if (ot_tensor_numel(dy) == 0) return OT_OK;
    ot_shape_strides(dx->rank, dx->dims, xs);
    ot_shape_strides(dy->rank, dy->dims, ys);
    for (int k = 0; k < dx->rank; k++) { /* dx[start + i * step] = dy[i] */
        off += start[k] * xs[k];
        ds[k] = count[k] <= 1 ? xs[k] : xs[k] * step[k];
    }
    ot_k_copy_strided((char *)dx->data + off * (int64_t)es, ds, dy->data, ys, dy->rank, dy->dims, es);
    return OT_OK;
}

/* ---- PadGrad ---------------------------------------------------------------- */

ot_status ot_pad_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_pad_grad_attrs *a = attrs;
    (void)opset;
    OT_TRY(ot_grad_shape_attr(n, &a->rank, a->shape));
    if (ot_node_attr(n, "pads")) {
        if (n->n_inputs > 1 && n->inputs[1] >= 0)
            return ot_node_error(n, OT_ERR_PARSE, "give the pads as an attribute or as input 1, not both");
        return ot_pad_parse(n, 10, &a->p); /* the opset 2..10 attribute form */
    }
    OT_TRY(ot_pad_parse(n, 11, &a->p));
    a->p.n_pads = -1;
    return OT_OK;
}

static ot_status ot_pad_grad_params(ot_kctx *c, int64_t *begin, int64_t *end) {
    const ot_pad_grad_attrs *a = c->attrs;
    return ot_pad_resolve(c, &a->p, a->p.n_pads >= 0, a->rank, a->shape, begin, end);
}

ot_status ot_pad_grad_infer(ot_kctx *c) {
    static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
    const ot_pad_grad_attrs *a = c->attrs;
    if (a->p.mode == OT_K_PAD_CONSTANT) OT_TRY(ot_shape_check_movable(c, 0));
    else OT_TRY(ot_check_dtype(c, 0, float_types)); /* mirrored copies add up */
    if (a->p.n_pads < 0 && !ot_in(c, 1)) return ot_op_error(c, OT_ERR_SHAPE, "needs the attribute pads or input 1");
    if (a->p.n_pads >= 0 || ot_values_known(c, 1, 4)) {
        int64_t begin[OT_MAX_RANK], end[OT_MAX_RANK], want[OT_MAX_RANK];
        OT_TRY(ot_pad_grad_params(c, begin, end));
        for (int k = 0; k < a->rank; k++) want[k] = a->shape[k] + begin[k] + end[k];
        OT_TRY(ot_check_dy(c, a->rank, want));
    }
    return ot_shape_set_out(c, 0, c->in[0]->dtype, a->rank, a->shape);
}

/* float16/bfloat16 mirror modes: accumulate in float32 scratch. */
static ot_status ot_pad_grad_half(ot_kctx *c, const int64_t *begin, const int64_t *end) {
    const ot_tensor *dy = c->in[0];
    ot_tensor *dx = c->out[0];
    int64_t ny = ot_tensor_numel(dy), nx = ot_tensor_numel(dx);
    float *fy = ot_workspace_alloc(sizeof(float) * (size_t)(ny + 1)), *fx = ot_workspace_alloc(sizeof(float) * (size_t)(nx + 1));
    ot_status s = OT_OK;
    if (!fy || !fx) s = ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    if (!s) {
        for (int64_t i = 0; i < ny; i++) fy[i] = (float)ot_load_f64(dy->dtype, dy->data, i);
        if (ot_k_pad_grad(fx, dx->dims, fy, dy->dims, begin, end, dx->rank,
                          (ot_k_pad_mode)((const ot_pad_grad_attrs *)c->attrs)->p.mode, 0))
            s = ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    }
    if (!s)
        for (int64_t i = 0; i < nx; i++) ot_store_f64(dx->dtype, dx->data, i, fx[i]);
    ot_workspace_free(fy);
    ot_workspace_free(fx);
    return s;
}

ot_status ot_pad_grad_cpu(ot_kctx *c) {
    const ot_pad_grad_attrs *a = c->attrs;
    const ot_tensor *dy = c->in[0];
    ot_tensor *dx = c->out[0];
    int r = dx->rank;
    int64_t begin[OT_MAX_RANK], end[OT_MAX_RANK], want[OT_MAX_RANK];
    OT_TRY(ot_pad_grad_params(c, begin, end));
    for (int k = 0; k < r; k++) want[k] = dx->dims[k] + begin[k] + end[k];
    OT_TRY(ot_check_dy(c, r, want));
    if (a->p.mode != OT_K_PAD_CONSTANT) {
        if (dx->dtype == OT_FLOAT16 || dx->dtype == OT_BFLOAT16) return ot_pad_grad_half(c, begin, end);
        if (ot_k_pad_grad(dx->data, dx->dims, dy->data, dy->dims, begin, end, r, (ot_k_pad_mode)a->p.mode,
                          dx->dtype == OT_DOUBLE))
            return ot_op_error(c, OT_ERR_NOMEM, "out of memory");
        return OT_OK;
    }
    /* Constant mode: the kept box of x, (kept_k) from crop_b in x and from
       max(begin, 0) in dy; the rest of dx (cropped away) gets zero. */
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK], kept[OT_MAX_RANK], xoff = 0, yoff = 0;
    size_t es = ot_dtype_size(dx->dtype);
    _Alignas(16) unsigned char zero[16] = {0};
    bool cropped = false;
    ot_shape_strides(r, dx->dims, xs);
    ot_shape_strides(r, dy->dims, ys);
    for (int k = 0; k < r; k++) {
        int64_t crop_b = begin[k] < 0 ? -begin[k] : 0, crop_e = end[k] < 0 ? -end[k] : 0;
        kept[k] = dx->dims[k] - crop_b - crop_e;
        cropped = cropped || crop_b || crop_e;
        xoff += crop_b * xs[k];
        yoff += (begin[k] > 0 ? begin[k] : 0) * ys[k];
    }
    if (cropped) ot_k_fill(dx->data, ot_tensor_numel(dx), zero, es);
    if (ot_shape_count(r, kept) == 0) return OT_OK;
    ot_k_copy_strided((char *)dx->data + xoff * (int64_t)es, xs, (const char *)dy->data + yoff * (int64_t)es, ys, r,
                      kept, es);
    return OT_OK;
}

/* ---- SplitGrad -------------------------------------------------------------- */

ot_status ot_split_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    const int64_t *split;
    int cnt;
    (void)opset;
    OT_TRY(ot_attr_get_int(n, "axis", 0, &((ot_axis_attrs *)attrs)->axis));
    OT_TRY(ot_attr_get_ints(n, "split", &split, &cnt));
    if (cnt != n->n_inputs)
        return ot_node_error(n, OT_ERR_PARSE, "'split' must have one size per input (%d), got %d", n->n_inputs, cnt);
    for (int i = 0; i < cnt; i++)
        if (split[i] < 0) return ot_node_error(n, OT_ERR_PARSE, "split[%d] = %lld is negative", i, (long long)split[i]);
    return OT_OK;
}

/* dx's shape (from the first present input and the sizes) and axis. */
static ot_status ot_split_grad_shape(ot_kctx *c, const int64_t **split, int *axis, int *rank, int64_t *dims) {
    const ot_tensor *x0 = NULL;
    int cnt;
    OT_TRY(ot_attr_get_ints(c->node, "split", split, &cnt));
    for (int i = 0; i < c->n_in && !x0; i++) x0 = c->in[i];
    if (!x0) return ot_op_error(c, OT_ERR_SHAPE, "every input is absent");
    if (x0->rank == 0 || ot_axis_normalize(((const ot_axis_attrs *)c->attrs)->axis, x0->rank, axis))
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d",
                           (long long)((const ot_axis_attrs *)c->attrs)->axis, x0->rank);
    *rank = x0->rank;
    memcpy(dims, x0->dims, sizeof(int64_t) * (size_t)x0->rank);
    dims[*axis] = 0;
    for (int i = 0; i < c->n_in; i++) {
        const ot_tensor *x = c->in[i];
        if ((*split)[i] > OT_MAX_NUMEL - dims[*axis]) return ot_op_error(c, OT_ERR_NOMEM, "output too large");
        dims[*axis] += (*split)[i];
        if (!x) continue;
        bool fits = x->dtype == x0->dtype && x->rank == x0->rank && x->dims[*axis] == (*split)[i];
        for (int k = 0; k < x->rank && fits; k++) fits = k == *axis || x->dims[k] == x0->dims[k];
        if (!fits) {
            char b[160];
            return ot_op_error(c, OT_ERR_SHAPE, "input %d (%s %s) does not fit split[%d] = %lld and input 0's shape", i,
                               ot_dtype_name(x->dtype), ot_shape_str(x->rank, x->dims, b, sizeof b), i,
                               (long long)(*split)[i]);
        }
    }
    return OT_OK;
}

ot_status ot_split_grad_infer(ot_kctx *c) {
    const int64_t *split;
    int axis, rank;
    int64_t dims[OT_MAX_RANK];
    OT_TRY(ot_split_grad_shape(c, &split, &axis, &rank, dims));
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i]) return ot_shape_set_out(c, 0, c->in[i]->dtype, rank, dims);
    return OT_OK;
}

ot_status ot_split_grad_cpu(ot_kctx *c) {
    const int64_t *split;
    int axis, rank;
    int64_t dims[OT_MAX_RANK], ys[OT_MAX_RANK], xs[OT_MAX_RANK], at = 0;
    ot_tensor *dx = c->out[0];
    size_t es = ot_dtype_size(dx->dtype);
    _Alignas(16) unsigned char zero[16] = {0};
    OT_TRY(ot_split_grad_shape(c, &split, &axis, &rank, dims));
    for (int i = 0; i < c->n_in; i++)
        if (!c->in[i]) { /* an output without gradient: its part of dx is zero */
            ot_k_fill(dx->data, ot_tensor_numel(dx), zero, es);
            break;
        }
    ot_shape_strides(rank, dx->dims, ys);
    for (int i = 0; i < c->n_in; i++) {
        const ot_tensor *x = c->in[i];
        if (x) {
            ot_shape_strides(rank, x->dims, xs);
            ot_k_copy_strided((char *)dx->data + at * ys[axis] * (int64_t)es, ys, x->data, xs, rank, x->dims, es);
        }
        at += split[i];
    }
    return OT_OK;
}
