/* Misc family, data movement: SpaceToDepth, DepthToSpace, ReverseSequence,
 * TensorScatter, CenterCropPad.  None looks at values, so each serves every
 * dtype with an element size (numeric, bool, complex; string is not a
 * tensor type onnxtrain runs). */
#include <string.h>

#include "kernels/cpu/shape.h"
#include "misc_ops.h"

static ot_status check_movable(const ot_kctx *c, int i) {
    const ot_tensor *t = ot_in(c, i);
    if (t && (t->dtype == OT_STRING || !ot_dtype_size(t->dtype)))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %d has type %s, which this op does not support", i,
                           ot_dtype_name(t->dtype));
    return OT_OK;
}

static void contiguous_strides(int rank, const int64_t *dims, int64_t *st) { ot_shape_strides(rank, dims, st); }

/* ---- SpaceToDepth (1, 13), DepthToSpace (1, 11, 13) ------------------------------------- */

ot_status ot_d2s_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_d2s_attrs *a = attrs;
    const char *mode;
    if (!ot_node_attr(n, "blocksize")) return ot_node_error(n, OT_ERR_PARSE, "attribute 'blocksize' is required");
    OT_TRY(ot_attr_get_int(n, "blocksize", 1, &a->blocksize));
    if (a->blocksize < 1)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "'blocksize' must be >= 1, got %lld", (long long)a->blocksize);
    if (opset < 11 && ot_node_attr(n, "mode"))
        return ot_node_error(n, OT_ERR_PARSE, "attribute 'mode' exists from opset 11 (the model uses %lld)",
                             (long long)opset);
    OT_TRY(ot_attr_get_string(n, "mode", "DCR", &mode));
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode '%s' is not DCR or CRD", mode);
    a->crd = !strcmp(mode, "CRD");
    return OT_OK;
}

static ot_status check_4d(const ot_kctx *c) {
    OT_TRY(check_movable(c, 0));
    const ot_tensor *x = c->in[0];
    if (x->rank != 4) return ot_op_error(c, OT_ERR_SHAPE, "input must be 4-D (N, C, H, W), got rank %d", x->rank);
    return OT_OK;
}

ot_status ot_s2d_infer(ot_kctx *c) {
    OT_TRY(check_4d(c));
    const ot_tensor *x = c->in[0];
    const int64_t bs = ((const ot_d2s_attrs *)c->attrs)->blocksize;
    if (x->dims[2] % bs || x->dims[3] % bs)
        return ot_op_error(c, OT_ERR_SHAPE, "H = %lld and W = %lld must be multiples of blocksize %lld",
                           (long long)x->dims[2], (long long)x->dims[3], (long long)bs);
    int64_t bs2;
    if (__builtin_mul_overflow(bs, bs, &bs2) || __builtin_mul_overflow(x->dims[1], bs2, &bs2))
        return ot_op_error(c, OT_ERR_SHAPE, "C * blocksize^2 overflows");
    const int64_t d[4] = {x->dims[0], bs2, x->dims[2] / bs, x->dims[3] / bs};
    ot_set_out(c, 0, x->dtype, 4, d);
    return OT_OK;
}

/* y (N, bs, bs, C, H/bs, W/bs) walks x (N, C, H/bs, bs, W/bs, bs). */
ot_status ot_s2d_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    const int64_t bs = ((const ot_d2s_attrs *)c->attrs)->blocksize;
    const int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    const int64_t box[6] = {N, bs, bs, C, H / bs, W / bs};
    const int64_t src[6] = {C * H * W, W, 1, H * W, bs * W, bs};
    int64_t dst[6];
    contiguous_strides(6, box, dst);
    ot_k_copy_strided(c->out[0]->data, dst, x->data, src, 6, box, ot_dtype_size(x->dtype));
    return OT_OK;
}

ot_status ot_d2s_infer(ot_kctx *c) {
    OT_TRY(check_4d(c));
    const ot_tensor *x = c->in[0];
    const int64_t bs = ((const ot_d2s_attrs *)c->attrs)->blocksize;
    if (x->dims[1] % (bs * bs))
        return ot_op_error(c, OT_ERR_SHAPE, "C = %lld must be a multiple of blocksize^2 = %lld", (long long)x->dims[1],
                           (long long)(bs * bs));
    int64_t h, w;
    if (__builtin_mul_overflow(x->dims[2], bs, &h) || __builtin_mul_overflow(x->dims[3], bs, &w))
        return ot_op_error(c, OT_ERR_SHAPE, "H * blocksize overflows");
    const int64_t d[4] = {x->dims[0], x->dims[1] / (bs * bs), h, w};
    ot_set_out(c, 0, x->dtype, 4, d);
    return OT_OK;
}

/* y (N, C', H, bs, W, bs) walks x as (N, bs, bs, C', H, W) (DCR) or
   (N, C', bs, bs, H, W) (CRD). */
ot_status ot_d2s_cpu(ot_kctx *c) {
    const ot_d2s_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    const int64_t bs = a->blocksize, N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    const int64_t Cq = C / (bs * bs), hw = H * W;
    const int64_t box[6] = {N, Cq, H, bs, W, bs};
    int64_t src[6] = {C * hw, hw, W, bs * Cq * hw, 1, Cq * hw}, dst[6];
    if (a->crd) src[1] = bs * bs * hw, src[3] = bs * hw, src[5] = hw;
    contiguous_strides(6, box, dst);
    ot_k_copy_strided(c->out[0]->data, dst, x->data, src, 6, box, ot_dtype_size(x->dtype));
    return OT_OK;
}

/* ---- ReverseSequence (10) ----------------------------------------------------------------- */

ot_status ot_revseq_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_revseq_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "batch_axis", 1, &a->batch_axis));
    OT_TRY(ot_attr_get_int(n, "time_axis", 0, &a->time_axis));
    if ((a->batch_axis != 0 && a->batch_axis != 1) || (a->time_axis != 0 && a->time_axis != 1) ||
        a->batch_axis == a->time_axis)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "batch_axis (%lld) and time_axis (%lld) must be 0 and 1, in some order",
                             (long long)a->batch_axis, (long long)a->time_axis);
    return OT_OK;
}

ot_status ot_revseq_infer(ot_kctx *c) {
    const ot_revseq_attrs *a = c->attrs;
    OT_TRY(check_movable(c, 0));
    const ot_tensor *x = c->in[0], *len = c->in[1];
    if (x->rank < 2) return ot_op_error(c, OT_ERR_SHAPE, "input must have rank >= 2, got %d", x->rank);
    if (len->dtype != OT_INT64)
        return ot_op_error(c, OT_ERR_TYPE, "sequence_lens must be int64, got %s", ot_dtype_name(len->dtype));
    if (len->rank != 1 || len->dims[0] != x->dims[a->batch_axis])
        return ot_op_error(c, OT_ERR_SHAPE, "sequence_lens must be 1-D of the batch size %lld",
                           (long long)x->dims[a->batch_axis]);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_revseq_cpu(ot_kctx *c) {
    const ot_revseq_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    const int64_t *lens = c->in[1]->data;
    const int64_t T = x->dims[a->time_axis], B = x->dims[a->batch_axis];
    int64_t inner = 1;
    for (int d = 2; d < x->rank; d++) inner *= x->dims[d];
    for (int64_t b = 0; b < B; b++)
        if (lens[b] < 0 || lens[b] > T)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                               (long long)lens[b], (long long)T);
    ot_cpu_reverse_sequence(x->data, c->out[0]->data, ot_dtype_size(x->dtype), T, B, inner, a->time_axis == 0, lens);
    return OT_OK;
}

/* ---- TensorScatter (24) ----------------------------------------------------------------------- */

ot_status ot_tscatter_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_tscatter_attrs *a = attrs;
    const char *mode;
    OT_TRY(ot_attr_get_int(n, "axis", -2, &a->axis));
    OT_TRY(ot_attr_get_string(n, "mode", "linear", &mode));
    if (strcmp(mode, "linear") && strcmp(mode, "circular"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode '%s' is not 'linear' or 'circular'", mode);
    a->circular = !strcmp(mode, "circular");
    return OT_OK;
}

/* past_cache (B, ..., max_seq, ...) with the sequence axis at `axis` (not 0). */
static ot_status tscatter_axis(const ot_kctx *c, int *axis) {
    const ot_tensor *x = c->in[0];
    int64_t ax = ((const ot_tscatter_attrs *)c->attrs)->axis;
    if (x->rank < 2 || ax < -x->rank || ax >= x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for past_cache of rank %d", (long long)ax, x->rank);
    *axis = (int)(ax < 0 ? ax + x->rank : ax);
    if (*axis == 0) return ot_op_error(c, OT_ERR_INVALID_ARG, "axis must not be 0 (the batch axis)");
    return OT_OK;
}

ot_status ot_tscatter_infer(ot_kctx *c) {
    OT_TRY(check_movable(c, 0));
    const ot_tensor *x = c->in[0], *u = c->in[1], *w = ot_in(c, 2);
    int axis;
    OT_TRY(tscatter_axis(c, &axis));
    if (u->dtype != x->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "update is %s, past_cache %s", ot_dtype_name(u->dtype), ot_dtype_name(x->dtype));
    bool ok = u->rank == x->rank;
    for (int d = 0; ok && d < x->rank; d++) ok = d == axis ? u->dims[d] <= x->dims[d] : u->dims[d] == x->dims[d];
    if (!ok) {
        char a[160], b[160];
        return ot_op_error(c, OT_ERR_SHAPE, "update %s must match past_cache %s except along axis %d, where it may be shorter",
                           ot_shape_str(u->rank, u->dims, a, sizeof a), ot_shape_str(x->rank, x->dims, b, sizeof b), axis);
    }
    if (w && (w->dtype != OT_INT64 || w->rank != 1 || w->dims[0] != x->dims[0]))
        return ot_op_error(c, OT_ERR_SHAPE, "write_indices must be a 1-D int64 tensor of the batch size %lld",
                           (long long)x->dims[0]);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_tscatter_cpu(ot_kctx *c) {
    const ot_tscatter_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *u = c->in[1], *w = ot_in(c, 2);
    int axis;
    OT_TRY(tscatter_axis(c, &axis));
    int64_t rest = 1, inner = 1, bad = -1;
    for (int d = 1; d < axis; d++) rest *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
    const int64_t *idx = w ? w->data : NULL;
    if (ot_cpu_tensor_scatter(x->data, u->data, c->out[0]->data, ot_dtype_size(x->dtype), x->dims[0], rest,
                              x->dims[axis], u->dims[axis], inner, idx, a->circular, &bad))
        return ot_op_error(c, OT_ERR_INVALID_ARG,
                           "linear mode: write_indices[%lld] = %lld with %lld updates leaves [0, %lld) (use mode "
                           "'circular' to wrap)",
                           (long long)bad, (long long)(idx ? idx[bad] : 0), (long long)u->dims[axis],
                           (long long)x->dims[axis]);
    return OT_OK;
}

/* ---- CenterCropPad (18) ---------------------------------------------------------------------------- */

ot_status ot_ccpad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ccpad_attrs *a = attrs;
    const int64_t *axes;
    int count;
    OT_TRY(ot_attr_get_ints(n, "axes", &axes, &count));
    if (count > OT_MAX_RANK) return ot_node_error(n, OT_ERR_UNSUPPORTED, "%d axes (at most %d)", count, OT_MAX_RANK);
    a->n_axes = count;
    if (count > 0) memcpy(a->axes, axes, sizeof(int64_t) * (size_t)count);
    return OT_OK;
}

ot_status ot_ccpad_infer(ot_kctx *c) {
    static const ot_dtype shape_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};
    const ot_ccpad_attrs *a = c->attrs;
    OT_TRY(check_movable(c, 0));
    OT_TRY(ot_check_dtype(c, 1, shape_types));
    const ot_tensor *x = c->in[0], *sh = c->in[1];
    const int r = x->rank, n = a->n_axes < 0 ? r : a->n_axes;
    if (sh->rank != 1 || sh->dims[0] != n)
        return ot_op_error(c, OT_ERR_SHAPE, "shape must be 1-D with %d entries (one per %s), got %lld", n,
                           a->n_axes < 0 ? "input axis" : "entry of 'axes'", (long long)(sh->rank == 1 ? sh->dims[0] : -1));
    OT_TRY(ot_need_value(c, 1));
    int64_t want[OT_MAX_RANK], cnt, out[OT_MAX_RANK];
    OT_TRY(ot_tensor_to_i64(sh, want, OT_MAX_RANK, &cnt));
    memcpy(out, x->dims, sizeof(int64_t) * (size_t)r);
    bool seen[OT_MAX_RANK] = {0};
    for (int k = 0; k < n; k++) {
        int ax = k;
        if (a->n_axes >= 0) {
            if (ot_axis_normalize(a->axes[k], r, &ax))
                return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for rank %d", (long long)a->axes[k], r);
            if (seen[ax]) return ot_op_error(c, OT_ERR_INVALID_ARG, "axis %d is listed twice in 'axes'", ax);
            seen[ax] = true;
        }
        if (want[k] < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "target size %lld of axis %d is negative", (long long)want[k], ax);
        out[ax] = want[k];
    }
    int64_t numel;
    if (ot_shape_numel(r, out, &numel)) return ot_op_error(c, OT_ERR_NOMEM, "output size overflows");
    ot_set_out(c, 0, x->dtype, r, out);
    return OT_OK;
}

/* Per axis the kept extent is min(in, out), starting at (in - out) / 2 in x
   when cropping and at (out - in) / 2 in y when padding (floors: the odd
   element goes to the right), so y and x dims alone say where things go. */
ot_status ot_ccpad_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    const int r = x->rank;
    const size_t es = ot_dtype_size(x->dtype);
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return OT_OK;
    }
    int64_t xs[OT_MAX_RANK], keep[OT_MAX_RANK], begin[OT_MAX_RANK], off = 0;
    contiguous_strides(r, x->dims, xs);
    for (int d = 0; d < r; d++) {
        const int64_t in = x->dims[d], out = y->dims[d];
        keep[d] = in < out ? in : out;
        begin[d] = out > in ? (out - in) / 2 : 0;
        off += (in > out ? (in - out) / 2 : 0) * xs[d];
    }
    static const char zero[16];
    ot_k_pad(y->data, y->dims, (const char *)x->data + (size_t)off * es, xs, keep, begin, r, OT_K_PAD_CONSTANT, zero,
             es);
    return OT_OK;
}
