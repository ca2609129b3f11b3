/* Gradients of the norm family: the rules, and the ai.onnxtrain ops they emit
 * (rows in ops/norm.c's table).  PyTorch's conventions:
 *  - BatchNormalization in training mode differentiates through the batch
 *    statistics; no gradient flows through running_mean / running_var (they
 *    are buffers).  Opsets < 14's saved_mean / saved_var (the batch mean and
 *    biased variance) do pass their gradients on.  In inference mode
 *    (training_mode 0, or no extra outputs before opset 14) the statistics are
 *    constants of an affine map; mean and var then get gradients too.
 *  - LayerNormalization and RMSNormalization differentiate through the row
 *    statistics, including gradients flowing into the Mean / InvStdDev outputs.
 *  - Instance/GroupNormalization differentiate through the (n, group)
 *    statistics.
 * The gradient ops recompute the statistics from X in double (one pass that
 * also gathers the dy sums), so they never depend on optional forward outputs
 * or on their stash_type precision. */
#include <string.h>

#include "norm_ops.h"
#include "kernels/cpu/norm.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/runtime/workspace.h"

/* ======================= the gradient ops ======================= */

static ot_status ot_flag_attr(const ot_node *n, const char *name, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, 0, &v));
    if (v != 0 && v != 1) return ot_node_error(n, OT_ERR_PARSE, "%s = %lld must be 0 or 1", name, (long long)v);
    *out = v == 1;
    return OT_OK;
}

/* Input i, when present, must have X's dtype and shape (a dY). */
static ot_status ot_like_x(const ot_kctx *c, int i, const char *name) {
    const ot_tensor *x = ot_in(c, 0), *t = ot_in(c, i);
    if (!t) return OT_OK;
    if (t->dtype != x->dtype || !ot_shape_equal(t->rank, t->dims, x->rank, x->dims)) {
        char b1[96], b2[96];
        return ot_op_error(c, OT_ERR_SHAPE, "%s is %s %s; it must match X (%s %s)", name, ot_dtype_name(t->dtype),
                           ot_shape_str(t->rank, t->dims, b1, sizeof b1), ot_dtype_name(x->dtype),
                           ot_shape_str(x->rank, x->dims, b2, sizeof b2));
    }
    return OT_OK;
}

/* Infer: declares the scratch of ot_dy_or_zeros (when dY is absent) so the
   planner reserves it from the first run instead of re-planning after it. */
static void ot_request_dy_zeros(const ot_kctx *c, int i) {
    if (!ot_in(c, i)) ot_workspace_request(ot_tensor_nbytes(ot_in(c, 0)) ? ot_tensor_nbytes(ot_in(c, 0)) : 1);
}

/* dY, or zeros when it is absent (only a statistics output had a gradient). */
static ot_status ot_dy_or_zeros(const ot_kctx *c, int i, const void **dy, void **own) {
    *own = NULL;
    if (ot_in(c, i)) {
        *dy = ot_in(c, i)->data;
        return OT_OK;
    }
    size_t nb = ot_tensor_nbytes(ot_in(c, 0));
    if (!(*own = ot_workspace_calloc(nb ? nb : 1, 1))) return ot_op_error(c, OT_ERR_NOMEM, "out of memory (%zu bytes)", nb);
    *dy = *own;
    return OT_OK;
}

/* ---- BatchNormalizationGrad -------------------------------------------------
 * Inputs:  X (N, C, ...), scale (C), mean (C)?, var (C)?, dY (X's shape)?,
 *          dSavedMean (C)?, dSavedVar (C)?
 * Outputs: dX, dScale (C), dB (C), dMean (C)?, dVar (C)?
 * training_mode 1: batch statistics of X (mean / var unused; dSaved* are
 * gradients of the batch mean and biased variance).  0: the given mean / var
 * (required); dMean / dVar may be requested. */

ot_status ot_bn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    return ot_flag_attr(n, "training_mode", &a->training);
}

ot_status ot_bn_grad_op_infer(ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    OT_TRY(ot_norm_float_x(c, 2));
    const ot_tensor *x = ot_in(c, 0);
    int64_t C = x->dims[1];
    static const char *names[7] = {"X", "scale", "mean", "var", "dY", "dSavedMean", "dSavedVar"};
    const char *per = "one value per channel, X's dim 1";
    OT_TRY(ot_norm_vector(c, 1, "scale", C, per));
    if (!a->training) {
        OT_TRY(ot_norm_vector(c, 2, "mean", C, per));
        OT_TRY(ot_norm_vector(c, 3, "var", C, per));
        if (ot_in(c, 2)->dtype != ot_in(c, 3)->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "mean and var must have the same type");
        if (ot_in(c, 5) || ot_in(c, 6))
            return ot_op_error(c, OT_ERR_PARSE, "dSavedMean / dSavedVar need training_mode = 1");
    } else if (ot_out(c, 3) || ot_out(c, 4)) {
        return ot_op_error(c, OT_ERR_PARSE, "outputs dMean / dVar exist only with training_mode = 0");
    }
    for (int i = 1; i < 7; i++) {
        const ot_tensor *t = ot_in(c, i);
        if (t && !ot_cpu_norm_dtype_ok(t->dtype))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %s has type %s; supported: %s", names[i],
                               ot_dtype_name(t->dtype), OT_NORM_FLOATS);
    }
    OT_TRY(ot_like_x(c, 4, "dY"));
    for (int i = 5; i < 7; i++)
        if (ot_in(c, i)) OT_TRY(ot_norm_vector(c, i, names[i], C, per));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    ot_set_out(c, 1, ot_in(c, 1)->dtype, 1, &C);
    ot_set_out(c, 2, ot_in(c, 1)->dtype, 1, &C);
    if (!a->training) {
        ot_set_out(c, 3, ot_in(c, 2)->dtype, 1, &C);
        ot_set_out(c, 4, ot_in(c, 3)->dtype, 1, &C);
    }
    ot_workspace_request(sizeof(double) * (size_t)(9 * C + 1)); /* ot_bn_grad_op_cpu's per-channel sums */
    ot_request_dy_zeros(c, 4);
    return OT_OK;
}

ot_status ot_bn_grad_op_cpu(ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    int64_t N = x->dims[0], C = x->dims[1], inner = 1;
    for (int i = 2; i < x->rank; i++) inner *= x->dims[i];
    /* per-channel doubles: scale, mean, var, dsm, dsv | dscale, dbias, dmean, dvar */
    double *buf = ot_workspace_alloc(sizeof(double) * (size_t)(9 * C + 1));
    const void *dy;
    void *zeros;
    if (!buf) return ot_op_error(c, OT_ERR_NOMEM, "out of memory for %lld channels", (long long)C);
    ot_status s = ot_dy_or_zeros(c, 4, &dy, &zeros);
    if (s) {
        ot_workspace_free(buf);
        return s;
    }
    double *in[5], *out[4];
    for (int k = 0; k < 5; k++) in[k] = buf + k * C;
    for (int k = 0; k < 4; k++) out[k] = buf + (5 + k) * C;
    static const int src[5] = {1, 2, 3, 5, 6}; /* scale, mean, var, dSavedMean, dSavedVar */
    bool have[5];
    for (int k = 0; k < 5; k++) {
        const ot_tensor *t = ot_in(c, src[k]);
        have[k] = t && (k < 1 || k > 2 || !a->training);
        if (have[k])
            for (int64_t ch = 0; ch < C; ch++) in[k][ch] = ot_load_f64(t->dtype, t->data, ch);
    }
    ot_bn_grad_args args = {.scale = in[0],
                            .mean = have[1] ? in[1] : NULL,
                            .var = have[2] ? in[2] : NULL,
                            .eps = (double)a->epsilon,
                            .dsaved_mean = have[3] ? in[3] : NULL,
                            .dsaved_var = have[4] ? in[4] : NULL,
                            .dscale = out[0],
                            .dbias = out[1],
                            .dmean = out[2],
                            .dvar = out[3]};
    ot_tensor *dx = ot_out(c, 0);
    ot_cpu_batch_norm_grad(x->dtype, x->data, dy, dx ? dx->data : NULL, N, C, inner, &args);
    for (int k = 0; k < 4; k++) {
        ot_tensor *t = ot_out(c, 1 + k);
        if (t)
            for (int64_t ch = 0; ch < C; ch++) ot_store_f64(t->dtype, t->data, ch, out[k][ch]);
    }
    ot_workspace_free(zeros);
    ot_workspace_free(buf);
    return OT_OK;
}

/* ---- LayerNormalizationGrad ---------------------------------------------------
 * Inputs:  X, Scale, B? (only its shape: dB has it), dY (X's shape)?,
 *          dMean?, dInvStdDev? (X's dims up to axis, then 1s; any float type)
 * Outputs: dX, dScale (Scale's shape), dB (B's shape; only with B)
 * axis / epsilon as the forward; rms 1: of an RMSNormalization (no centring,
 * no B, no statistics inputs). */

ot_status ot_ln_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    OT_TRY(ot_attr_get_int(n, "axis", -1, &a->axis));
    return ot_flag_attr(n, "rms", &a->rms);
}

/* Doubles of ot_ln_grad_op_cpu's scratch: per block partial dScale/dB sums, then the totals. */
static size_t ot_ln_grad_partials(int64_t rows, int64_t D, int64_t P, int64_t Pb) {
    int nblk = ot_cpu_layer_norm_grad_blocks(rows, D, P, Pb);
    return (size_t)nblk * (size_t)(P + Pb) + (size_t)(P + Pb) + 1;
}

static ot_status ot_ln_grad_check(ot_kctx *c, int64_t *rows, int64_t *D, int64_t *P, int64_t *Pb) {
    const ot_norm_attrs *a = c->attrs;
    int axis;
    OT_TRY(ot_ln_geometry(c, &axis, rows, D, P, Pb));
    if (a->rms && (ot_in(c, 2) || ot_in(c, 4) || ot_in(c, 5)))
        return ot_op_error(c, OT_ERR_PARSE, "rms = 1 takes no B, dMean or dInvStdDev");
    if (ot_out(c, 2) && !ot_in(c, 2)) return ot_op_error(c, OT_ERR_PARSE, "output dB needs input B (for its shape)");
    OT_TRY(ot_like_x(c, 3, "dY"));
    for (int i = 4; i < 6; i++) {
        const ot_tensor *t = ot_in(c, i);
        if (t && (!ot_cpu_norm_dtype_ok(t->dtype) || ot_tensor_numel(t) != *rows))
            return ot_op_error(c, OT_ERR_SHAPE, "%s must be a float tensor of %lld values (one per normalised row)",
                               i == 4 ? "dMean" : "dInvStdDev", (long long)*rows);
    }
    return OT_OK;
}

ot_status ot_ln_grad_op_infer(ot_kctx *c) {
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_grad_check(c, &rows, &D, &P, &Pb));
    const ot_tensor *x = ot_in(c, 0), *s = ot_in(c, 1), *b = ot_in(c, 2);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    ot_set_out(c, 1, s->dtype, s->rank, s->dims);
    if (b) ot_set_out(c, 2, b->dtype, b->rank, b->dims);
    ot_workspace_request(sizeof(double) * ot_ln_grad_partials(rows, D, P, Pb));
    ot_request_dy_zeros(c, 3);
    return OT_OK;
}

ot_status ot_ln_grad_op_cpu(ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_grad_check(c, &rows, &D, &P, &Pb));
    const ot_tensor *x = ot_in(c, 0), *dm = ot_in(c, 4), *di = ot_in(c, 5);
    int nblk = ot_cpu_layer_norm_grad_blocks(rows, D, P, Pb);
    size_t n = ot_ln_grad_partials(rows, D, P, Pb);
    double *buf = ot_workspace_alloc(sizeof(double) * n);
    if (!buf) return ot_op_error(c, OT_ERR_NOMEM, "out of memory for %zu partial sums", n);
    const void *dy;
    void *zeros;
    ot_status s = ot_dy_or_zeros(c, 3, &dy, &zeros);
    if (s) {
        ot_workspace_free(buf);
        return s;
    }
    double *dscale = buf + (size_t)nblk * (size_t)(P + Pb), *dbias = dscale + P;
    ot_tensor *dx = ot_out(c, 0), *ds = ot_out(c, 1), *db = ot_out(c, 2);
    ot_cpu_layer_norm_grad(x->dtype, x->data, dy, ot_in(c, 1)->data, P, Pb, dx ? dx->data : NULL, rows, D,
                           (double)a->epsilon, a->rms, dm ? dm->data : NULL, dm ? dm->dtype : OT_FLOAT,
                           di ? di->data : NULL, di ? di->dtype : OT_FLOAT, buf, nblk, dscale, dbias);
    if (ds)
        for (int64_t j = 0; j < P; j++) ot_store_f64(ds->dtype, ds->data, j, dscale[j]);
    if (db)
        for (int64_t j = 0; j < Pb; j++) ot_store_f64(db->dtype, db->data, j, dbias[j]);
    ot_workspace_free(zeros);
    ot_workspace_free(buf);
    return OT_OK;
}

/* ---- GroupNormalizationGrad ---------------------------------------------------
 * Inputs:  X (N, C, ...), scale (K), dY (X's shape)
 * Outputs: dX, dScale (K), dBias (K)
 * num_groups G divides C; K = C when per_channel (InstanceNormalization with
 * G = C, GroupNormalization from opset 21), else G (GroupNormalization 18). */

ot_status ot_gn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    OT_TRY(ot_attr_get_int(n, "num_groups", 0, &a->num_groups));
    if (a->num_groups < 1)
        return ot_node_error(n, OT_ERR_PARSE, "num_groups = %lld must be >= 1 (required)",
                             (long long)a->num_groups);
    return ot_flag_attr(n, "per_channel", &a->per_channel);
}

static ot_status ot_gn_grad_check(ot_kctx *c, int64_t *N, int64_t *CG, int64_t *S, int64_t *K) {
    const ot_norm_attrs *a = c->attrs;
    OT_TRY(ot_norm_float_x(c, 2));
    const ot_tensor *x = ot_in(c, 0);
    int64_t C = x->dims[1], G = a->num_groups;
    if (C % G != 0)
        return ot_op_error(c, OT_ERR_SHAPE, "num_groups = %lld does not divide the %lld channels of X", (long long)G,
                           (long long)C);
    *N = x->dims[0];
    *CG = C / G;
    *S = 1;
    for (int i = 2; i < x->rank; i++) *S *= x->dims[i];
    *K = a->per_channel ? C : G;
    OT_TRY(ot_norm_vector(c, 1, "scale", *K, a->per_channel ? "one value per channel" : "one value per group"));
    OT_TRY(ot_norm_same_dtype(c, 1, "scale"));
    if (!ot_in(c, 2)) return ot_op_error(c, OT_ERR_SHAPE, "required input dY is missing");
    return ot_like_x(c, 2, "dY");
}

ot_status ot_gn_grad_op_infer(ot_kctx *c) {
    int64_t N, CG, S, K;
    OT_TRY(ot_gn_grad_check(c, &N, &CG, &S, &K));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    ot_set_out(c, 1, x->dtype, 1, &K);
    ot_set_out(c, 2, x->dtype, 1, &K);
    ot_workspace_request(sizeof(double) * (size_t)(2 * N * K + 2 * K + 1)); /* ot_gn_grad_op_cpu's sums */
    return OT_OK;
}

ot_status ot_gn_grad_op_cpu(ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    int64_t N, CG, S, K;
    OT_TRY(ot_gn_grad_check(c, &N, &CG, &S, &K));
    size_t n = (size_t)(2 * N * K + 2 * K + 1);
    double *buf = ot_workspace_alloc(sizeof(double) * n);
    if (!buf) return ot_op_error(c, OT_ERR_NOMEM, "out of memory for %zu partial sums", n);
    double *dscale = buf + 2 * N * K, *dbias = dscale + K;
    const ot_tensor *x = ot_in(c, 0);
    ot_tensor *dx = ot_out(c, 0), *ds = ot_out(c, 1), *db = ot_out(c, 2);
    ot_cpu_group_norm_grad(x->dtype, x->data, ot_in(c, 2)->data, ot_in(c, 1)->data, dx ? dx->data : NULL, N,
                           a->num_groups, CG, S, a->per_channel, (double)a->epsilon, buf, dscale, dbias);
    for (int64_t k = 0; k < K; k++) {
        if (ds) ot_store_f64(ds->dtype, ds->data, k, dscale[k]);
        if (db) ot_store_f64(db->dtype, db->data, k, dbias[k]);
    }
    ot_workspace_free(buf);
    return OT_OK;
}

/* ======================= the rules ======================= */

static bool ot_any_need(const ot_grad_ctx *g, int from, int to) {
    for (int i = from; i <= to; i++)
        if (ot_grad_needs(g, i)) return true;
    return false;
}

/* The forward's inputs the grad op receives first, then the gradients of its
   outputs; trailing absent inputs are dropped. */
static int ot_trim(const int *in, int n) {
    while (n > 0 && in[n - 1] < 0) n--;
    return n;
}

/* Hands the gradient op's outputs to the forward's inputs: out[k] -> input map[k]. */
static ot_status ot_set_all(ot_grad_ctx *g, int n, const int *out, const int *map) {
    for (int k = 0; k < n; k++) OT_TRY(ot_grad_set(g, map[k], out[k]));
    return OT_OK;
}

/* BatchNormalization: inputs X, scale, B, input_mean, input_var. */
ot_status ot_bn_grad(ot_grad_ctx *g) {
    const ot_norm_attrs a = *(const ot_norm_attrs *)ot_grad_attrs(g);
    bool training = a.training;
    if (ot_grad_opset(g) < 14) { /* training is implied by the extra outputs */
        training = false;
        for (int i = 1; i < 5; i++)
            if (ot_grad_y(g, i) >= 0) training = true;
    }
    int dy = ot_grad_dy(g, 0), dsm = training ? ot_grad_dy(g, 3) : -1, dsv = training ? ot_grad_dy(g, 4) : -1;
    if (dy < 0 && dsm < 0 && dsv < 0) return OT_OK; /* running statistics carry no gradient */
    bool stats = !training && ot_any_need(g, 3, 4);
    if (!ot_any_need(g, 0, 2) && !stats) return OT_OK;
    int in[7] = {ot_grad_x(g, 0), ot_grad_x(g, 1), training ? -1 : ot_grad_x(g, 3), training ? -1 : ot_grad_x(g, 4),
                 dy, dsm, dsv};
    int out[5], n_out = stats ? 5 : 3;
    ot_grad_attr at[2] = {{.name = "epsilon", .type = OT_ATTR_FLOAT, .f = a.epsilon},
                          {.name = "training_mode", .type = OT_ATTR_INT, .i = training}};
    OT_TRY(ot_grad_emit(g, "BatchNormalizationGrad", OT_DOMAIN_TRAIN, ot_trim(in, 7), in, n_out, out, 2, at));
    static const int map[5] = {0, 1, 2, 3, 4};
    return ot_set_all(g, n_out, out, map);
}

static ot_status ot_ln_grad_common(ot_grad_ctx *g, bool rms) {
    const ot_norm_attrs a = *(const ot_norm_attrs *)ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0), dm = rms ? -1 : ot_grad_dy(g, 1), di = rms ? -1 : ot_grad_dy(g, 2);
    if ((dy < 0 && dm < 0 && di < 0) || !ot_any_need(g, 0, 2)) return OT_OK;
    int b = rms ? -1 : ot_grad_x(g, 2);
    int in[6] = {ot_grad_x(g, 0), ot_grad_x(g, 1), b, dy, dm, di};
    int out[3], n_out = b >= 0 ? 3 : 2;
    ot_grad_attr at[3] = {{.name = "axis", .type = OT_ATTR_INT, .i = a.axis},
                          {.name = "epsilon", .type = OT_ATTR_FLOAT, .f = a.epsilon},
                          {.name = "rms", .type = OT_ATTR_INT, .i = rms}};
    OT_TRY(ot_grad_emit(g, "LayerNormalizationGrad", OT_DOMAIN_TRAIN, ot_trim(in, 6), in, n_out, out, 3, at));
    static const int map[3] = {0, 1, 2};
    return ot_set_all(g, n_out, out, map);
}

/* LayerNormalization: inputs X, Scale, B?; outputs Y, Mean?, InvStdDev?. */
ot_status ot_ln_grad(ot_grad_ctx *g) { return ot_ln_grad_common(g, false); }
/* RMSNormalization: inputs X, scale. */
ot_status ot_rms_grad(ot_grad_ctx *g) { return ot_ln_grad_common(g, true); }

static ot_status ot_gn_grad_common(ot_grad_ctx *g, int64_t groups, bool per_channel) {
    const ot_norm_attrs a = *(const ot_norm_attrs *)ot_grad_attrs(g);
    int dy = ot_grad_dy(g, 0);
    if (dy < 0 || !ot_any_need(g, 0, 2)) return OT_OK;
    int in[3] = {ot_grad_x(g, 0), ot_grad_x(g, 1), dy}, out[3];
    ot_grad_attr at[3] = {{.name = "epsilon", .type = OT_ATTR_FLOAT, .f = a.epsilon},
                          {.name = "num_groups", .type = OT_ATTR_INT, .i = groups},
                          {.name = "per_channel", .type = OT_ATTR_INT, .i = per_channel}};
    OT_TRY(ot_grad_emit(g, "GroupNormalizationGrad", OT_DOMAIN_TRAIN, 3, in, 3, out, 3, at));
    static const int map[3] = {0, 1, 2};
    return ot_set_all(g, 3, out, map);
}

/* InstanceNormalization: one group per channel. */
ot_status ot_in_grad(ot_grad_ctx *g) {
    const ot_tensor *x = ot_grad_value(g, ot_grad_x(g, 0));
    int64_t C = x->rank >= 2 ? x->dims[1] : 0;
    if (C < 1) return ot_error(OT_ERR_SHAPE, "node '%s': InstanceNormalization gradient of an X without channels",
                               ot_grad_node(g)->name);
    return ot_gn_grad_common(g, C, true);
}

/* GroupNormalization: scale / bias per group at opset 18, per channel from 21. */
ot_status ot_gn_grad(ot_grad_ctx *g) {
    const ot_norm_attrs *a = ot_grad_attrs(g);
    return ot_gn_grad_common(g, a->num_groups, ot_grad_opset(g) >= 21);
}
