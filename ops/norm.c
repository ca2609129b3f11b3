/* Op family: norm — BatchNormalization, LayerNormalization, RMSNormalization,
 * LpNormalization, MeanVarianceNormalization, InstanceNormalization,
 * GroupNormalization (ai.onnx opsets 7..23).
 * The loops live in kernels/cpu/norm.c.  Gradient rules and the ai.onnxtrain
 * gradient ops (BatchNormalizationGrad, LayerNormalizationGrad,
 * GroupNormalizationGrad): ops/norm_grad.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "norm_ops.h"
#include "kernels/cpu/norm.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/runtime/workspace.h"

ot_status ot_norm_eps(const ot_node *n, ot_norm_attrs *a) {
    OT_TRY(ot_attr_get_float(n, "epsilon", 1e-5f, &a->epsilon));
    if (!(a->epsilon >= 0) || isinf(a->epsilon))
        return ot_node_error(n, OT_ERR_PARSE, "epsilon = %g must be a finite value >= 0", (double)a->epsilon);
    return OT_OK;
}

static ot_status ot_norm_stash(const ot_node *n, ot_norm_attrs *a) {
    int64_t st;
    OT_TRY(ot_attr_get_int(n, "stash_type", OT_FLOAT, &st));
    if (st != OT_FLOAT && st != OT_DOUBLE && st != OT_FLOAT16 && st != OT_BFLOAT16)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "stash_type %lld is not a floating-point type (%s)",
                             (long long)st, OT_NORM_FLOATS);
    a->stash_type = (ot_dtype)st;
    return OT_OK;
}

/* Input i must have X's dtype (the kernels read Scale/B as X's type). */
ot_status ot_norm_same_dtype(const ot_kctx *c, int i, const char *name) {
    const ot_tensor *x = ot_in(c, 0), *t = ot_in(c, i);
    if (t && t->dtype != x->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "input %s has type %s but X has type %s; they must match", name,
                           ot_dtype_name(t->dtype), ot_dtype_name(x->dtype));
    return OT_OK;
}

ot_status ot_norm_float_x(const ot_kctx *c, int min_rank) {
    const ot_tensor *x = ot_in(c, 0);
    if (!ot_cpu_norm_dtype_ok(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input X has type %s; supported: %s", ot_dtype_name(x->dtype),
                           OT_NORM_FLOATS);
    if (x->rank < min_rank)
        return ot_op_error(c, OT_ERR_SHAPE, "input X has rank %d; expected (N, C, ...) of rank >= %d", x->rank,
                           min_rank);
    return OT_OK;
}

/* Input i must be a vector of `len` elements. */
ot_status ot_norm_vector(const ot_kctx *c, int i, const char *name, int64_t len, const char *what) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return ot_op_error(c, OT_ERR_SHAPE, "required input %s is missing", name);
    if (t->rank != 1 || t->dims[0] != len) {
        char buf[96];
        return ot_op_error(c, OT_ERR_SHAPE, "input %s has shape %s; expected (%lld) (%s)", name,
                           ot_shape_str(t->rank, t->dims, buf, sizeof buf), (long long)len, what);
    }
    return OT_OK;
}

/* A scratch array of doubles: on the stack for typical channel counts. */
typedef struct ot_scratch {
    double local[1536];
    double *p;
} ot_scratch;

static ot_status ot_scratch_get(const ot_kctx *c, ot_scratch *s, int64_t n) {
    if (n <= (int64_t)(sizeof s->local / sizeof s->local[0])) {
        s->p = s->local;
        return OT_OK;
    }
    s->p = ot_workspace_alloc((size_t)n * sizeof(double));
    if (!s->p) return ot_op_error(c, OT_ERR_NOMEM, "out of memory for %lld per-channel values", (long long)n);
    return OT_OK;
}

static void ot_scratch_free(ot_scratch *s) {
    if (s->p != s->local) ot_workspace_free(s->p);
}

/* ---- BatchNormalization ---------------------------------------------------
 * Inference: Y = (X - mean) / sqrt(var + eps) * scale + B with the given
 * statistics.  Training (training_mode = 1 from opset 14; before that, when
 * any output beyond Y is requested): batch mean and biased batch variance
 * normalise X, and
 *   running_mean = input_mean * momentum + batch_mean * (1 - momentum)
 *   running_var  = input_var  * momentum + batch_var  * (1 - momentum)
 * with the biased batch_var, as ONNX's reference does (PyTorch's running_var
 * uses the unbiased one: the training rewrite handles that).  Opsets < 14
 * also have saved_mean / saved_var: the batch mean and biased variance. */

static ot_status ot_bn_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    OT_TRY(ot_attr_get_float(n, "momentum", 0.9f, &a->momentum));
    int64_t v;
    if (opset < 9) {
        OT_TRY(ot_attr_get_int(n, "spatial", 1, &v));
        if (v != 1)
            return ot_node_error(n, OT_ERR_UNSUPPORTED,
                                 "spatial = %lld (per-activation statistics) is not supported; reshape X to "
                                 "(N, C*D1*...*Dn) and use spatial = 1",
                                 (long long)v);
    } else if (ot_node_attr(n, "spatial")) {
        return ot_node_error(n, OT_ERR_PARSE, "attribute spatial exists only up to opset 8 (model has opset %lld)",
                             (long long)opset);
    }
    if (opset >= 14) {
        OT_TRY(ot_attr_get_int(n, "training_mode", 0, &v));
        if (v != 0 && v != 1)
            return ot_node_error(n, OT_ERR_PARSE, "training_mode = %lld must be 0 or 1", (long long)v);
        a->training = v == 1;
    } else if (ot_node_attr(n, "training_mode")) {
        return ot_node_error(n, OT_ERR_PARSE,
                             "attribute training_mode exists from opset 14 (model has opset %lld)",
                             (long long)opset);
    }
    return OT_OK;
}

static bool ot_bn_training(const ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    if (c->opset >= 14) return a->training;
    for (int i = 1; i < c->n_out; i++)
        if (ot_out(c, i)) return true;
    return false;
}

static ot_status ot_bn_infer(ot_kctx *c) {
    OT_TRY(ot_norm_float_x(c, 2));
    const ot_tensor *x = ot_in(c, 0);
    int64_t C = x->dims[1];
    static const char *names[5] = {"X", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++) {
        OT_TRY(ot_norm_vector(c, i, names[i], C, "one value per channel, X's dim 1"));
        const ot_tensor *t = ot_in(c, i);
        if (!ot_cpu_norm_dtype_ok(t->dtype))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %s has type %s; supported: %s", names[i],
                               ot_dtype_name(t->dtype), OT_NORM_FLOATS);
    }
    if (c->opset < 15) /* one type T for everything before opset 15 */
        for (int i = 1; i < 5; i++) OT_TRY(ot_norm_same_dtype(c, i, names[i]));
    else if (ot_in(c, 3)->dtype != ot_in(c, 4)->dtype || ot_in(c, 1)->dtype != ot_in(c, 2)->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "scale/B and mean/var must have matching types (T1, T2)");
    bool training = ot_bn_training(c);
    if (!training && c->opset >= 14 && (ot_out(c, 1) || ot_out(c, 2)))
        return ot_op_error(c, OT_ERR_PARSE, "outputs running_mean/running_var require training_mode = 1");
    if (training) {
        int64_t count = x->dims[0];
        for (int i = 2; i < x->rank; i++) count *= x->dims[i];
        if (count == 0 && C > 0)
            return ot_op_error(c, OT_ERR_SHAPE, "training mode needs at least one value per channel (X is empty)");
    }
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    ot_set_out(c, 1, ot_in(c, 3)->dtype, 1, &C);
    ot_set_out(c, 2, ot_in(c, 4)->dtype, 1, &C);
    ot_set_out(c, 3, x->dtype, 1, &C);
    ot_set_out(c, 4, x->dtype, 1, &C);
    return OT_OK;
}

static ot_status ot_bn_cpu(ot_kctx *c) {
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *scale = ot_in(c, 1), *bias = ot_in(c, 2);
    const ot_tensor *in_mean = ot_in(c, 3), *in_var = ot_in(c, 4);
    int64_t N = x->dims[0], C = x->dims[1], inner = 1;
    for (int i = 2; i < x->rank; i++) inner *= x->dims[i];
    bool training = ot_bn_training(c);
    ot_scratch sc;
    OT_TRY(ot_scratch_get(c, &sc, 4 * C));
    double *mean = sc.p, *var = sc.p + C, *mul = sc.p + 2 * C, *add = sc.p + 3 * C;
    if (training) {
        ot_cpu_channel_moments(x->dtype, x->data, N, C, inner, mean, var);
    } else {
        for (int64_t ch = 0; ch < C; ch++) {
            mean[ch] = ot_load_f64(in_mean->dtype, in_mean->data, ch);
            var[ch] = ot_load_f64(in_var->dtype, in_var->data, ch);
        }
    }
    for (int64_t ch = 0; ch < C; ch++) {
        mul[ch] = ot_load_f64(scale->dtype, scale->data, ch) / sqrt(var[ch] + (double)a->epsilon);
        add[ch] = ot_load_f64(bias->dtype, bias->data, ch);
    }
    ot_cpu_channel_affine(x->dtype, x->data, ot_out(c, 0)->data, N, C, inner, mean, mul, add);
    if (training) {
        double mom = (double)a->momentum;
        ot_tensor *rm = ot_out(c, 1), *rv = ot_out(c, 2), *sm = ot_out(c, 3), *sv = ot_out(c, 4);
        for (int64_t ch = 0; ch < C; ch++) {
            if (rm)
                ot_store_f64(rm->dtype, rm->data, ch,
                             ot_load_f64(in_mean->dtype, in_mean->data, ch) * mom + mean[ch] * (1 - mom));
            if (rv)
                ot_store_f64(rv->dtype, rv->data, ch,
                             ot_load_f64(in_var->dtype, in_var->data, ch) * mom + var[ch] * (1 - mom));
            if (sm) ot_store_f64(sm->dtype, sm->data, ch, mean[ch]);
            if (sv) ot_store_f64(sv->dtype, sv->data, ch, var[ch]);
        }
    }
    ot_scratch_free(&sc);
    return OT_OK;
}

/* ---- LayerNormalization ---------------------------------------------------- */

static ot_status ot_ln_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    OT_TRY(ot_attr_get_int(n, "axis", -1, &a->axis));
    return ot_norm_stash(n, a);
}

/* Scale/B must broadcast onto X as a repeating period: their shape with
   leading 1s dropped equals X's trailing dims.  *period = their numel. */
static ot_status ot_ln_param(const ot_kctx *c, int i, const char *name, int64_t *period) {
    const ot_tensor *x = ot_in(c, 0), *t = ot_in(c, i);
    *period = 0;
    if (!t) return OT_OK;
    OT_TRY(ot_norm_same_dtype(c, i, name));
    int lead = 0;
    while (lead < t->rank && t->dims[lead] == 1) lead++;
    int k = t->rank - lead;
    bool ok = t->rank <= x->rank;
    for (int j = 0; ok && j < k; j++) ok = t->dims[lead + j] == x->dims[x->rank - k + j];
    if (!ok) {
        char b1[96], b2[96];
        ot_shape_str(t->rank, t->dims, b1, sizeof b1);
        ot_shape_str(x->rank, x->dims, b2, sizeof b2);
        bool bcast = t->rank <= x->rank;
        for (int j = 0; bcast && j < t->rank; j++) {
            int64_t d = t->dims[j], xd = x->dims[x->rank - t->rank + j];
            bcast = d == 1 || d == xd;
        }
        if (bcast)
            return ot_op_error(c, OT_ERR_UNSUPPORTED,
                               "input %s of shape %s broadcasts to X %s only with 1s between X's trailing dims; "
                               "supported: %s equal to X's trailing dims (leading 1s allowed)",
                               name, b1, b2, name);
        return ot_op_error(c, OT_ERR_SHAPE, "input %s has shape %s, which does not broadcast to X %s", name, b1, b2);
    }
    int64_t p = 1;
    for (int j = lead; j < t->rank; j++) p *= t->dims[j];
    *period = p;
    return OT_OK;
}

ot_status ot_ln_geometry(ot_kctx *c, int *axis, int64_t *rows, int64_t *D, int64_t *P, int64_t *Pb) {
    OT_TRY(ot_norm_float_x(c, 1));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    if (a->axis < -x->rank || a->axis >= x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for X of rank %d", (long long)a->axis, x->rank);
    *axis = (int)(a->axis < 0 ? a->axis + x->rank : a->axis);
    *rows = 1;
    *D = 1;
    for (int i = 0; i < x->rank; i++) *(i < *axis ? rows : D) *= x->dims[i];
    if (!ot_in(c, 1)) return ot_op_error(c, OT_ERR_SHAPE, "required input Scale is missing");
    OT_TRY(ot_ln_param(c, 1, "Scale", P));
    OT_TRY(ot_ln_param(c, 2, "B", Pb));
    return OT_OK;
}

static ot_status ot_ln_infer(ot_kctx *c) {
    int axis;
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_geometry(c, &axis, &rows, &D, &P, &Pb));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    int64_t sdims[OT_MAX_RANK];
    for (int i = 0; i < x->rank; i++) sdims[i] = i < axis ? x->dims[i] : 1;
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    ot_set_out(c, 1, a->stash_type, x->rank, sdims);
    ot_set_out(c, 2, a->stash_type, x->rank, sdims);
    return OT_OK;
}

static ot_status ot_ln_cpu(ot_kctx *c) {
    int axis;
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_geometry(c, &axis, &rows, &D, &P, &Pb));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *b = ot_in(c, 2);
    ot_tensor *mean = ot_out(c, 1), *inv = ot_out(c, 2);
    ot_cpu_layer_norm(x->dtype, x->data, ot_in(c, 1)->data, P, b ? b->data : NULL, Pb, ot_out(c, 0)->data, rows, D,
                      (double)a->epsilon, a->stash_type, mean ? mean->data : NULL, inv ? inv->data : NULL);
    return OT_OK;
}

/* ---- RMSNormalization (opset 23): LayerNormalization's geometry, no centring,
   no bias, no statistics outputs. */

static ot_status ot_rms_infer(ot_kctx *c) {
    int axis;
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_geometry(c, &axis, &rows, &D, &P, &Pb));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status ot_rms_cpu(ot_kctx *c) {
    int axis;
    int64_t rows, D, P, Pb;
    OT_TRY(ot_ln_geometry(c, &axis, &rows, &D, &P, &Pb));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    ot_cpu_rms_norm(x->dtype, x->data, ot_in(c, 1)->data, P, ot_out(c, 0)->data, rows, D, (double)a->epsilon);
    return OT_OK;
}

/* ---- LpNormalization: y = x / ||x||_p along one axis (p = 1 or 2). */

static ot_status ot_lpn_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_attr_get_int(n, "axis", -1, &a->axis));
    OT_TRY(ot_attr_get_int(n, "p", 2, &a->num_groups)); /* p shares the integer slot */
    if (a->num_groups != 1 && a->num_groups != 2)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "p = %lld: LpNormalization supports p = 1 and p = 2",
                             (long long)a->num_groups);
    return OT_OK;
}

static ot_status ot_lpn_geometry(ot_kctx *c, int64_t *outer, int64_t *L, int64_t *inner) {
    OT_TRY(ot_norm_float_x(c, 1));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    if (a->axis < -x->rank || a->axis >= x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for X of rank %d", (long long)a->axis, x->rank);
    int axis = (int)(a->axis < 0 ? a->axis + x->rank : a->axis);
    *outer = 1;
    *inner = 1;
    *L = x->dims[axis];
    for (int i = 0; i < x->rank; i++)
        if (i != axis) *(i < axis ? outer : inner) *= x->dims[i];
    return OT_OK;
}

static ot_status ot_lpn_infer(ot_kctx *c) {
    int64_t outer, L, inner;
    OT_TRY(ot_lpn_geometry(c, &outer, &L, &inner));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status ot_lpn_cpu(ot_kctx *c) {
    int64_t outer, L, inner;
    OT_TRY(ot_lpn_geometry(c, &outer, &L, &inner));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    ot_cpu_lp_norm(x->dtype, x->data, ot_out(c, 0)->data, outer, L, inner, (int)a->num_groups);
    return OT_OK;
}

/* ---- MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9) over `axes`
   (default [0, 2, 3]).  The parsed axes live in a bit mask. */

#define OT_MVN_EPS 1e-9

static ot_status ot_mvn_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    const int64_t *axes;
    int cnt;
    OT_TRY(ot_attr_get_ints(n, "axes", &axes, &cnt));
    static const int64_t dflt[3] = {0, 2, 3};
    if (cnt < 0) {
        axes = dflt;
        cnt = 3;
    }
    a->axis = 0; /* axes as a mask over [-OT_MAX_RANK, OT_MAX_RANK): bit (axis + OT_MAX_RANK) */
    for (int i = 0; i < cnt; i++) {
        if (axes[i] < -OT_MAX_RANK || axes[i] >= OT_MAX_RANK)
            return ot_node_error(n, OT_ERR_PARSE, "axes[%d] = %lld is out of range", i, (long long)axes[i]);
        a->axis |= (int64_t)1 << (axes[i] + OT_MAX_RANK);
    }
    return OT_OK;
}

/* Resolves the axes mask against X's rank. */
static ot_status ot_mvn_axes(ot_kctx *c, bool *reduce) {
    OT_TRY(ot_norm_float_x(c, 1));
    const ot_norm_attrs *a = c->attrs;
    int rank = ot_in(c, 0)->rank;
    for (int i = 0; i < rank; i++) reduce[i] = false;
    for (int v = -OT_MAX_RANK; v < OT_MAX_RANK; v++) {
        if (!(a->axis >> (v + OT_MAX_RANK) & 1)) continue;
        if (v < -rank || v >= rank)
            return ot_op_error(c, OT_ERR_SHAPE, "axis %d is out of range for X of rank %d", v, rank);
        int ax = v < 0 ? v + rank : v;
        if (reduce[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %d appears twice in axes", ax);
        reduce[ax] = true;
    }
    return OT_OK;
}

static ot_status ot_mvn_infer(ot_kctx *c) {
    bool reduce[OT_MAX_RANK];
    OT_TRY(ot_mvn_axes(c, reduce));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status ot_mvn_cpu(ot_kctx *c) {
    bool reduce[OT_MAX_RANK];
    OT_TRY(ot_mvn_axes(c, reduce));
    const ot_tensor *x = ot_in(c, 0);
    ot_cpu_mvn(x->dtype, x->data, ot_out(c, 0)->data, x->rank, x->dims, reduce, OT_MVN_EPS);
    return OT_OK;
}

/* ---- InstanceNormalization / GroupNormalization ----------------------------- */

static ot_status ot_in_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    return ot_norm_eps(n, a);
}

static ot_status ot_gn_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_norm_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_norm_eps(n, a));
    if (!ot_node_attr(n, "num_groups"))
        return ot_node_error(n, OT_ERR_PARSE, "required attribute num_groups is missing");
    OT_TRY(ot_attr_get_int(n, "num_groups", 1, &a->num_groups));
    if (a->num_groups < 1)
        return ot_node_error(n, OT_ERR_PARSE, "num_groups = %lld must be >= 1", (long long)a->num_groups);
    if (opset < 21 && ot_node_attr(n, "stash_type"))
        return ot_node_error(n, OT_ERR_PARSE, "attribute stash_type exists from opset 21 (model has opset %lld)",
                             (long long)opset);
    return ot_norm_stash(n, a);
}

/* Shared by both: G groups of CG channels; per_channel says whether
   scale/bias have C entries (InstanceNormalization, GroupNormalization >= 21)
   or G (GroupNormalization 18). */
static ot_status ot_gn_geometry(ot_kctx *c, bool instance, int64_t *N, int64_t *G, int64_t *CG, int64_t *S,
                                bool *per_channel) {
    OT_TRY(ot_norm_float_x(c, 2));
    const ot_tensor *x = ot_in(c, 0);
    int64_t C = x->dims[1];
    *N = x->dims[0];
    *S = 1;
    for (int i = 2; i < x->rank; i++) *S *= x->dims[i];
    if (instance) {
        *G = C;
        *per_channel = true;
    } else {
        const ot_norm_attrs *a = c->attrs;
        *G = a->num_groups;
        *per_channel = c->opset >= 21;
        if (C % *G != 0)
            return ot_op_error(c, OT_ERR_SHAPE, "num_groups = %lld does not divide the %lld channels of X",
                               (long long)*G, (long long)C);
    }
    *CG = *G ? C / *G : 0;
    const char *what = *per_channel ? "one value per channel, X's dim 1" : "one value per group (opset 18)";
    int64_t len = *per_channel ? C : *G;
    OT_TRY(ot_norm_vector(c, 1, "scale", len, what));
    OT_TRY(ot_norm_vector(c, 2, "bias", len, what));
    OT_TRY(ot_norm_same_dtype(c, 1, "scale"));
    return ot_norm_same_dtype(c, 2, "bias");
}

static ot_status ot_gn_infer_common(ot_kctx *c, bool instance) {
    int64_t N, G, CG, S;
    bool pc;
    OT_TRY(ot_gn_geometry(c, instance, &N, &G, &CG, &S, &pc));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status ot_gn_cpu_common(ot_kctx *c, bool instance) {
    int64_t N, G, CG, S;
    bool pc;
    OT_TRY(ot_gn_geometry(c, instance, &N, &G, &CG, &S, &pc));
    const ot_norm_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    ot_cpu_group_norm(x->dtype, x->data, ot_in(c, 1)->data, ot_in(c, 2)->data, ot_out(c, 0)->data, N, G, CG, S, pc,
                      (double)a->epsilon);
    return OT_OK;
}

static ot_status ot_in_infer(ot_kctx *c) { return ot_gn_infer_common(c, true); }
static ot_status ot_in_cpu(ot_kctx *c) { return ot_gn_cpu_common(c, true); }
static ot_status ot_gn_infer(ot_kctx *c) { return ot_gn_infer_common(c, false); }
static ot_status ot_gn_cpu(ot_kctx *c) { return ot_gn_cpu_common(c, false); }

const ot_op_def ot_ops_norm[] = {
    {.name = "BatchNormalization", .domain = "", .min_opset = 7, .max_opset = 23,
     .min_inputs = 5, .max_inputs = 5, .min_outputs = 1, .max_outputs = 5,
     .attr_names = "epsilon,momentum,spatial,training_mode", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_bn_parse, .infer = ot_bn_infer, .cpu = ot_bn_cpu, .traits = 0,
     .dtypes = OT_NORM_FLOATS " (scale/B and mean/var may differ from X from opset 15)", .grad = ot_bn_grad},
    {.name = "LayerNormalization", .domain = "", .min_opset = 17, .max_opset = 23,
     .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 3,
     .attr_names = "axis,epsilon,stash_type", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_ln_parse, .infer = ot_ln_infer, .cpu = ot_ln_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS " (Mean/InvStdDev: stash_type)", .grad = ot_ln_grad},
    {.name = "RMSNormalization", .domain = "", .min_opset = 23, .max_opset = 23,
     .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "axis,epsilon,stash_type", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_ln_parse, .infer = ot_rms_infer, .cpu = ot_rms_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS " (Scale: X's type)", .grad = ot_rms_grad},
    {.name = "LpNormalization", .domain = "", .min_opset = 1, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "axis,p", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_lpn_parse, .infer = ot_lpn_infer, .cpu = ot_lpn_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS},
    {.name = "MeanVarianceNormalization", .domain = "", .min_opset = 9, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "axes", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_mvn_parse, .infer = ot_mvn_infer, .cpu = ot_mvn_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS},
    {.name = "InstanceNormalization", .domain = "", .min_opset = 6, .max_opset = 23,
     .min_inputs = 3, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "epsilon", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_in_parse, .infer = ot_in_infer, .cpu = ot_in_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS, .grad = ot_in_grad},
    {.name = "GroupNormalization", .domain = "", .min_opset = 18, .max_opset = 23,
     .min_inputs = 3, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "epsilon,num_groups,stash_type", .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_gn_parse, .infer = ot_gn_infer, .cpu = ot_gn_cpu, .traits = OT_TRAIT_RECOMPUTE,
     .dtypes = OT_NORM_FLOATS, .grad = ot_gn_grad},
    {.name = "BatchNormalizationGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1,
     .min_inputs = 2, .max_inputs = 7, .min_outputs = 1, .max_outputs = 5,
     .attr_names = OT_BN_GRAD_ATTRS, .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_bn_grad_op_parse, .infer = ot_bn_grad_op_infer, .cpu = ot_bn_grad_op_cpu, .traits = 0,
     .dtypes = OT_NORM_FLOATS " (per-channel inputs may differ from X)"},
    {.name = "LayerNormalizationGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1,
     .min_inputs = 2, .max_inputs = 6, .min_outputs = 1, .max_outputs = 3,
     .attr_names = OT_LN_GRAD_ATTRS, .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_ln_grad_op_parse, .infer = ot_ln_grad_op_infer, .cpu = ot_ln_grad_op_cpu, .traits = 0,
     .dtypes = OT_NORM_FLOATS},
    {.name = "GroupNormalizationGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1,
     .min_inputs = 3, .max_inputs = 3, .min_outputs = 1, .max_outputs = 3,
     .attr_names = OT_GN_GRAD_ATTRS, .attrs_size = sizeof(ot_norm_attrs),
     .parse = ot_gn_grad_op_parse, .infer = ot_gn_grad_op_infer, .cpu = ot_gn_grad_op_cpu, .traits = 0,
     .dtypes = OT_NORM_FLOATS},
};
const int ot_ops_norm_count = sizeof ot_ops_norm / sizeof ot_ops_norm[0];
