/* Gradient rules of the shape family: data movement, so each gradient is the
 * inverse movement of dy.  Rules that need the forward's bounds (Slice, Pad)
 * hand the forward's own inputs to a backward op that resolves them at run
 * time (shape_grad_ops.c), so they work whether or not those inputs are
 * compile-time constants. */
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "grad.h"
#include "src/core/alloc.h"
#include "shape_ops.h"

/* A copy of a value's dims (ot_grad_value's pointer dies at the next emit). */
static int ot_dims_of(const ot_grad_ctx *g, int v, int64_t *dims) {
    const ot_tensor *t = ot_grad_value(g, v);
    memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    return t->rank;
}

/* Reshape, Flatten, Squeeze, Unsqueeze: dx = reshape(dy, shape(x)). */
ot_status ot_reshape_like_grad(ot_grad_ctx *g) {
    int64_t dims[OT_MAX_RANK];
    int rank = ot_dims_of(g, ot_grad_x(g, 0), dims), dx, dy = ot_grad_dy(g, 0);
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    OT_TRY(ot_grad_reshape(g, dy, rank, dims, &dx));
    return ot_grad_set(g, 0, dx);
}

/* y = transpose(x, perm): dx = transpose(dy, perm^-1). */
ot_status ot_transpose_grad(ot_grad_ctx *g) {
    const ot_transpose_attrs *a = ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0), r = ot_grad_value(g, ot_grad_x(g, 0))->rank, dx;
    int64_t inv[OT_MAX_RANK];
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    for (int k = 0; k < r; k++) inv[a->n_perm < 0 ? r - 1 - k : a->perm[k]] = k;
    ot_grad_attr at = {.name = "perm", .type = OT_ATTR_INTS, .ints = inv, .n = r};
    OT_TRY(ot_grad_emit(g, "Transpose", "", 1, &dy, 1, &dx, 1, &at));
    return ot_grad_set(g, 0, dx);
}

/* y = concat(x_0, ..., x_{n-1}): dx_i is the slice of dy that x_i became.
   ConcatGrad is Split with the sizes as an attribute, at every opset. */
ot_status ot_concat_grad(ot_grad_ctx *g) {
    const ot_node *n = ot_grad_node(g);
    int dy = ot_grad_dy(g, 0), nin = n->n_inputs, axis;
    if (dy < 0) return OT_OK;
    if (nin == 1) return ot_grad_set(g, 0, dy);
    const ot_tensor *x0 = ot_grad_value(g, ot_grad_x(g, 0));
    OT_TRY(ot_axis_normalize(((const ot_axis_attrs *)ot_grad_attrs(g))->axis, x0->rank, &axis));
    int64_t *sizes = ot_malloc(sizeof(int64_t) * (size_t)nin);
    int *dx = ot_malloc(sizeof(int) * (size_t)nin);
    ot_status s = sizes && dx ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nin && !s; i++) sizes[i] = ot_grad_value(g, ot_grad_x(g, i))->dims[axis];
    ot_grad_attr at[2] = {{.name = "axis", .type = OT_ATTR_INT, .i = axis},
                          {.name = "split", .type = OT_ATTR_INTS, .ints = sizes, .n = nin}};
    if (!s) s = ot_grad_emit(g, "ConcatGrad", OT_DOMAIN_TRAIN, 1, &dy, nin, dx, 2, at);
    for (int i = 0; i < nin && !s; i++) s = ot_grad_set(g, i, dx[i]);
    ot_free(sizes);
    ot_free(dx);
    return s;
}

/* y_0, ..., y_{n-1} = split(x): dx = concat(dy_i), zero where no dy_i flows. */
ot_status ot_split_grad(ot_grad_ctx *g) {
    const ot_node *n = ot_grad_node(g);
    int nout = n->n_outputs, axis, dx;
    if (!ot_grad_needs(g, 0)) return OT_OK;
    int rank = ot_grad_value(g, ot_grad_x(g, 0))->rank;
    OT_TRY(ot_axis_normalize(((const ot_split_attrs *)ot_grad_attrs(g))->axis, rank, &axis));
    for (int i = 0; i < nout; i++)
        if (ot_grad_y(g, i) < 0)
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (Split): output %d is absent, so its size is unknown", n->name, i);
    int64_t *sizes = ot_malloc(sizeof(int64_t) * (size_t)nout);
    int *dy = ot_malloc(sizeof(int) * (size_t)nout);
    ot_status s = sizes && dy ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nout && !s; i++) {
        sizes[i] = ot_grad_value(g, ot_grad_y(g, i))->dims[axis];
        dy[i] = ot_grad_dy(g, i);
    }
    ot_grad_attr at[2] = {{.name = "axis", .type = OT_ATTR_INT, .i = axis},
                          {.name = "split", .type = OT_ATTR_INTS, .ints = sizes, .n = nout}};
    if (!s) s = ot_grad_emit(g, "SplitGrad", OT_DOMAIN_TRAIN, nout, dy, 1, &dx, 2, at);
    if (!s) s = ot_grad_set(g, 0, dx);
    ot_free(sizes);
    ot_free(dy);
    return s;
}

/* y = x[slice]: dx = zeros(shape(x)) with dy at the slice.  SliceGrad gets
   the forward's bounds (inputs 1..4, or the opset < 10 attributes). */
ot_status ot_slice_grad(ot_grad_ctx *g) {
    const ot_slice_attrs *a = ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0), dx;
    int64_t shape[OT_MAX_RANK];
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    int rank = ot_dims_of(g, ot_grad_x(g, 0), shape);
    ot_grad_attr at[4] = {{.name = "shape", .type = OT_ATTR_INTS, .ints = shape, .n = rank}};
    int n_at = 1, in[5] = {dy, -1, -1, -1, -1}, n_in = 1;
    if (ot_grad_opset(g) < 10) {
        at[n_at++] = (ot_grad_attr){.name = "starts", .type = OT_ATTR_INTS, .ints = a->starts, .n = a->n};
        at[n_at++] = (ot_grad_attr){.name = "ends", .type = OT_ATTR_INTS, .ints = a->ends, .n = a->n};
        if (a->n_axes >= 0) at[n_at++] = (ot_grad_attr){.name = "axes", .type = OT_ATTR_INTS, .ints = a->axes, .n = a->n_axes};
    } else {
        for (int i = 1; i < 5; i++)
            if ((in[i] = ot_grad_x(g, i)) >= 0) n_in = i + 1;
    }
    OT_TRY(ot_grad_emit(g, "SliceGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &dx, n_at, at));
    return ot_grad_set(g, 0, dx);
}

/* y = broadcast of x: ot_grad_set sums dy back to x's shape. */
ot_status ot_expand_grad(ot_grad_ctx *g) { return ot_grad_set(g, 0, ot_grad_dy(g, 0)); }

/* y = tile(x, r) (x: (d_0, ..., d_{n-1})): dy viewed as (r_0, d_0, r_1, d_1,
   ...) summed over the r_k axes.  Runs of untiled axes merge into one dim; a
   view past the rank limit is reduced one tiled axis at a time. */
ot_status ot_tile_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    int64_t xd[OT_MAX_RANK], yd[OT_MAX_RANK];
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    int r = ot_dims_of(g, ot_grad_x(g, 0), xd);
    ot_dims_of(g, dy, yd);
    int64_t view[2 * OT_MAX_RANK], axes[OT_MAX_RANK], reps[OT_MAX_RANK];
    int nv = 0, na = 0, cur = dy, dx;
    bool prev_kept = false;
    for (int k = 0; k < r; k++) {
        reps[k] = xd[k] ? yd[k] / xd[k] : 1;
        if (reps[k] != 1) {
            axes[na++] = nv;
            view[nv++] = reps[k];
            view[nv++] = xd[k];
            prev_kept = false;
        } else if (prev_kept) {
            view[nv - 1] *= xd[k];
        } else {
            view[nv++] = xd[k];
            prev_kept = true;
        }
    }
    if (!na) return ot_grad_set(g, 0, dy); /* all repeats 1 (or x empty: dy is too) */
    if (nv <= OT_MAX_RANK) {
        OT_TRY(ot_grad_reshape(g, dy, nv, view, &cur));
        OT_TRY(ot_grad_reduce_sum(g, cur, na, axes, false, &cur));
    } else {
        int64_t cd[OT_MAX_RANK];
        memcpy(cd, yd, sizeof cd);
        for (int k = 0; k < r; k++) { /* (A, r_k, d_k, B) -> (A, d_k, B) */
            if (reps[k] == 1) continue;
            int64_t v4[4] = {1, reps[k], xd[k], 1}, one = 1;
            for (int q = 0; q < k; q++) v4[0] *= cd[q];
            for (int q = k + 1; q < r; q++) v4[3] *= cd[q];
            OT_TRY(ot_grad_reshape(g, cur, 4, v4, &cur));
            OT_TRY(ot_grad_reduce_sum(g, cur, 1, &one, false, &cur));
            cd[k] = xd[k];
        }
    }
    OT_TRY(ot_grad_reshape(g, cur, r, xd, &dx));
    return ot_grad_set(g, 0, dx);
}

/* y = pad(x): PadGrad (crop for constant mode, mirrored sums otherwise).
   constant_value (opset >= 11) receives the sum of dy over the fill:
   sum(dy) - sum(dx), dx being the part of dy that came from x. */
ot_status ot_pad_grad(ot_grad_ctx *g) {
    static const char *modes[] = {[OT_K_PAD_CONSTANT] = "constant", [OT_K_PAD_REFLECT] = "reflect",
                                  [OT_K_PAD_EDGE] = "edge", [OT_K_PAD_WRAP] = "wrap"};
    const ot_pad_attrs *a = ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0), dx;
    bool need_value = ot_grad_opset(g) >= 11 && a->mode == OT_K_PAD_CONSTANT && ot_grad_needs(g, 2);
    if (dy < 0 || (!ot_grad_needs(g, 0) && !need_value)) return OT_OK;
    int64_t shape[OT_MAX_RANK];
    int rank = ot_dims_of(g, ot_grad_x(g, 0), shape);
    ot_grad_attr at[3] = {{.name = "shape", .type = OT_ATTR_INTS, .ints = shape, .n = rank},
                          {.name = "mode", .type = OT_ATTR_STRING, .s = modes[a->mode]}};
    int n_at = 2, in[4] = {dy, -1, -1, -1}, n_in = 1;
    if (ot_grad_opset(g) < 11) {
        at[n_at++] = (ot_grad_attr){.name = "pads", .type = OT_ATTR_INTS, .ints = a->pads, .n = a->n_pads};
    } else {
        in[1] = ot_grad_x(g, 1);
        in[3] = ot_grad_x(g, 3);
        n_in = in[3] >= 0 ? 4 : 2;
    }
    OT_TRY(ot_grad_emit(g, "PadGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &dx, n_at, at));
    OT_TRY(ot_grad_set(g, 0, dx));
    if (!need_value) return OT_OK;
    int64_t axes[OT_MAX_RANK], vdims[OT_MAX_RANK];
    int vrank = ot_dims_of(g, ot_grad_x(g, 2), vdims), sy, sx, dv;
    for (int k = 0; k < rank; k++) axes[k] = k;
    OT_TRY(ot_grad_reduce_sum(g, dy, rank, axes, false, &sy));
    OT_TRY(ot_grad_reduce_sum(g, dx, rank, axes, false, &sx));
    OT_TRY(ot_grad_op2(g, "Sub", sy, sx, &dv));
    OT_TRY(ot_grad_reshape(g, dv, vrank, vdims, &dv));
    return ot_grad_set(g, 2, dv);
}

/* y = trilu(x, k): the same mask applied to dy. */
ot_status ot_trilu_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    int in[2] = {dy, ot_grad_x(g, 1)};
    ot_grad_attr at = {.name = "upper", .type = OT_ATTR_INT, .i = ((const ot_trilu_attrs *)ot_grad_attrs(g))->upper};
    OT_TRY(ot_grad_emit(g, "Trilu", "", in[1] >= 0 ? 2 : 1, in, 1, &dx, 1, &at));
    return ot_grad_set(g, 0, dx);
}
