/* Elementwise family, part 4: the ai.onnxtrain gradient ops that the rules
 * of elementwise_grad.c emit (rows in ops/elementwise.c, domain
 * ai.onnxtrain, opset 1).  Kernels: kernels/cpu/elementwise_grad*.c.
 *
 *   <Op>Grad(dy, v) -> dx                 dy, v, dx: the forward's shape
 *       One per unary op with a nontrivial derivative (ReluGrad, SigmoidGrad,
 *       TanhGrad, GeluGrad, ErfGrad, LeakyReluGrad, ...: the list is
 *       OT_UNARY_GRAD_OPS in kernels/cpu/elementwise_grad.h).  v is the
 *       forward's output y for Relu, Sigmoid, Tanh, Sqrt, Reciprocal, Tan
 *       (so x can be freed) and its input x for the others.  Attributes as
 *       the forward's: alpha (LeakyRelu, Elu, Selu, Celu, HardSigmoid,
 *       ThresholdedRelu), beta (HardSigmoid), gamma (Selu), lambd (Shrink),
 *       approximate (Gelu: "none" or "tanh").
 *
 *   PowGrad(dy, x, e [, z]) -> d          attribute wrt: 0 or 1
 *       z = x ^ e (the forward's output, used by wrt 1).  d has dy's shape
 *       (the broadcast of x and e): wrt 0 the gradient of x (x's dtype),
 *       wrt 1 of e (e's dtype, which must be a float type then).
 *
 *   PReluGrad(dy, x, slope) -> d          attribute wrt: 0 (x) or 1 (slope)
 *       d has x's shape; for wrt 1 the caller sums it to slope's shape.
 *
 *   MinMaxGrad(dy, y, x0, ..., xn-1) -> d attribute input: k in [0, n)
 *       y = Min or Max of the x; d (dy's shape) is dy where x_k equals y,
 *       divided among the inputs that tie there.
 *
 *   ClipGrad(dy, x [, min] [, max]) -> dx  attributes min, max (floats, used
 *       when the input is absent; default: unbounded).  dx = dy where
 *       min <= x <= max.
 *
 *   DropoutGrad(dy [, ratio] [, training_mode] [, mask]) -> dx
 *       Attributes seed_node (required: the forward Dropout's node index,
 *       which keys its random stream), seed (the forward's seed attribute,
 *       when it had one), ratio (float, default 0.5: used when the ratio
 *       input is absent).  Active under the same conditions as the forward
 *       (training session or training_mode true); then dx = dy / (1 - ratio)
 *       where the element was kept, read from mask (the forward's mask
 *       output) or, when it is absent, regenerated bit-identically from
 *       (seed, seed_node, step, element); else dx = dy. */
#include <math.h>
#include <string.h>

#include "elementwise_ops.h"

/* ---- unary grad ops --------------------------------------------------------------- */
static const ot_ew_ugrad_info ugrad_table[] = {
#define OT_X(nm, op_name, y) {op_name, OT_UG_##nm, y, 0, 0, 0, 0, 0, 0},
    OT_UNARY_GRAD_OPS(OT_X)
#undef OT_X
};

/* The float attributes, by op (names and defaults as the forward ops'). */
static void ugrad_attr_names(ot_ew_ugrad_info *i) {
    switch (i->op) {
    case OT_UG_LEAKY_RELU: i->a = "alpha", i->a_def = 0.01f; break;
    case OT_UG_ELU: case OT_UG_CELU: case OT_UG_THRESHOLDED_RELU: i->a = "alpha", i->a_def = 1.0f; break;
    case OT_UG_SELU:
        i->a = "alpha", i->a_def = 1.67326319217681884765625f;
        i->g = "gamma", i->g_def = 1.05070102214050292968750f;
        break;
    case OT_UG_HARD_SIGMOID: i->a = "alpha", i->a_def = 0.2f, i->b = "beta", i->b_def = 0.5f; break;
    case OT_UG_SHRINK: i->a = "lambd", i->a_def = 0.5f; break;
    default: break;
    }
}

bool ot_ew_ugrad_info_of(ot_unary_grad_op op, ot_ew_ugrad_info *out) {
    if ((int)op < 0 || op >= OT_UG_COUNT) return false;
    *out = ugrad_table[op];
    ugrad_attr_names(out);
    return true;
}

static ot_status ugrad_float_attr(const ot_node *n, const char *name, float dflt, float *out) {
    *out = 0.0f;
    return name ? ot_attr_get_float(n, name, dflt, out) : OT_OK;
}

ot_status ot_ew_ugrad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_ugrad_attrs *a = attrs;
    ot_ew_ugrad_info info;
    int k = 0;
    while (k < OT_UG_COUNT && strcmp(ugrad_table[k].name, n->op_type)) k++;
    if (!ot_ew_ugrad_info_of((ot_unary_grad_op)k, &info))
        return ot_ew_node_error(n, OT_ERR_INTERNAL, "not a unary gradient op");
    a->op = info.op;
    OT_TRY(ugrad_float_attr(n, info.a, info.a_def, &a->p.alpha));
    OT_TRY(ugrad_float_attr(n, info.b, info.b_def, &a->p.beta));
    OT_TRY(ugrad_float_attr(n, info.g, info.g_def, &a->p.gamma));
    if (a->op == OT_UG_CELU && a->p.alpha == 0.0f)
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "alpha must be nonzero (Celu divides by it)");
    if (a->op == OT_UG_GELU) {
        const char *approx;
        OT_TRY(ot_attr_get_string(n, "approximate", "none", &approx));
        if (!strcmp(approx, "tanh")) a->op = OT_UG_GELU_TANH;
        else if (strcmp(approx, "none"))
            return ot_ew_node_error(n, OT_ERR_UNSUPPORTED, "approximate='%s' (expected 'none' or 'tanh')", approx);
    }
    return OT_OK;
}

/* Inputs a and b present, of one float dtype (and one shape if same_shape). */
static ot_status grad_same(ot_kctx *c, int a, int b, bool same_shape) {
    OT_TRY(ot_ew_check_input(c, a, OT_EW_DT_FLOAT));
    OT_TRY(ot_ew_check_input(c, b, OT_EW_DT_FLOAT));
    const ot_tensor *ta = ot_in(c, a), *tb = ot_in(c, b);
    if (ta->dtype != tb->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "input %d has type %s but input %d has %s; they must match", b,
                           ot_dtype_name(tb->dtype), a, ot_dtype_name(ta->dtype));
    if (same_shape && !ot_shape_equal(ta->rank, ta->dims, tb->rank, tb->dims)) {
        char sa[128], sb[128];
        return ot_op_error(c, OT_ERR_SHAPE, "input %d has shape %s but input %d has %s; they must match", b,
                           ot_shape_str(tb->rank, tb->dims, sb, sizeof sb), a,
                           ot_shape_str(ta->rank, ta->dims, sa, sizeof sa));
    }
    return OT_OK;
}

ot_status ot_ew_ugrad_infer(ot_kctx *c) {
    OT_TRY(grad_same(c, 0, 1, true));
    const ot_tensor *dy = ot_in(c, 0);
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    return OT_OK;
}

ot_status ot_ew_ugrad_cpu(ot_kctx *c) {
    const ot_ew_ugrad_attrs *a = c->attrs;
    return ot_cpu_unary_grad(a->op, &a->p, c->in[0], c->in[1], c->out[0]);
}

/* ---- PowGrad / PReluGrad --------------------------------------------------------- */
static ot_status wrt_parse(const ot_node *n, void *attrs) {
    ot_ew_wrt_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "wrt", -1, &a->wrt));
    if (a->wrt != 0 && a->wrt != 1)
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "attribute 'wrt' must be 0 or 1, got %lld", (long long)a->wrt);
    return OT_OK;
}

ot_status ot_ew_pow_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return wrt_parse(n, attrs);
}

/* `t` (rank/dims) must equal the broadcast of inputs a and b. */
static ot_status grad_check_bcast(ot_kctx *c, const ot_tensor *t, int a, int b) {
    const ot_tensor *in[2] = {ot_in(c, a), ot_in(c, b)};
    int rank;
    int64_t dims[OT_MAX_RANK];
    if (ot_bcast_shape(2, in, &rank, dims) != OT_OK)
        return ot_error_context(OT_ERR_SHAPE, "node '%s' (%s)", c->name, c->node->op_type);
    if (!ot_shape_equal(rank, dims, t->rank, t->dims)) {
        char s1[128], s2[128];
        return ot_op_error(c, OT_ERR_SHAPE, "dy has shape %s but the inputs broadcast to %s",
                           ot_shape_str(t->rank, t->dims, s1, sizeof s1), ot_shape_str(rank, dims, s2, sizeof s2));
    }
    return OT_OK;
}

ot_status ot_ew_pow_grad_infer(ot_kctx *c) {
    const ot_ew_wrt_attrs *a = c->attrs;
    OT_TRY(grad_same(c, 0, 1, false));
    OT_TRY(ot_ew_check_input(c, 2, a->wrt ? OT_EW_DT_FLOAT : OT_EW_DT_NUM));
    const ot_tensor *dy = ot_in(c, 0), *x = ot_in(c, 1), *e = ot_in(c, 2), *z = ot_in(c, 3);
    OT_TRY(grad_check_bcast(c, dy, 1, 2));
    if (z && (z->dtype != x->dtype || !ot_shape_equal(z->rank, z->dims, dy->rank, dy->dims)))
        return ot_op_error(c, OT_ERR_SHAPE, "input 3 (the forward's output) must have dy's shape and x's type");
    ot_set_out(c, 0, a->wrt ? e->dtype : x->dtype, dy->rank, dy->dims);
    return OT_OK;
}

ot_status ot_ew_pow_grad_cpu(ot_kctx *c) {
    const ot_ew_wrt_attrs *a = c->attrs;
    return ot_cpu_pow_grad((int)a->wrt, c->in[0], c->in[1], c->in[2], ot_in(c, 3), c->out[0]);
}

ot_status ot_ew_prelu_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return wrt_parse(n, attrs);
}

ot_status ot_ew_prelu_grad_infer(ot_kctx *c) {
    OT_TRY(grad_same(c, 0, 1, true));
    OT_TRY(grad_same(c, 1, 2, false));
    const ot_tensor *x = ot_in(c, 1);
    OT_TRY(grad_check_bcast(c, x, 1, 2));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_prelu_grad_cpu(ot_kctx *c) {
    const ot_ew_wrt_attrs *a = c->attrs;
    return ot_cpu_prelu_grad((int)a->wrt, c->in[0], c->in[1], c->in[2], c->out[0]);
}

/* ---- MinMaxGrad ------------------------------------------------------------------- */
ot_status ot_ew_minmax_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_minmax_grad_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "input", -1, &a->input));
    if (a->input < 0 || a->input >= n->n_inputs - 2)
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "attribute 'input' is %lld; it must name one of the %d inputs",
                                (long long)a->input, n->n_inputs - 2);
    return OT_OK;
}

ot_status ot_ew_minmax_grad_infer(ot_kctx *c) {
    OT_TRY(grad_same(c, 0, 1, true));
    const ot_tensor *dy = ot_in(c, 0);
    int rank = 0;
    int64_t dims[OT_MAX_RANK] = {0};
    for (int k = 2; k < c->n_in; k++) {
        OT_TRY(grad_same(c, 0, k, false));
        const ot_tensor *t = ot_in(c, k);
        if (ot_shape_broadcast(rank, dims, t->rank, t->dims, &rank, dims) != OT_OK)
            return ot_error_context(OT_ERR_SHAPE, "node '%s' (%s)", c->name, c->node->op_type);
    }
    if (!ot_shape_equal(rank, dims, dy->rank, dy->dims))
        return ot_op_error(c, OT_ERR_SHAPE, "dy's shape is not the broadcast of the inputs'");
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    return OT_OK;
}

ot_status ot_ew_minmax_grad_cpu(ot_kctx *c) {
    const ot_ew_minmax_grad_attrs *a = c->attrs;
    return ot_cpu_minmax_grad((int)a->input, c->n_in - 2, (const ot_tensor *const *)c->in + 2, c->in[0], c->in[1],
                              c->out[0]);
}

/* ---- ClipGrad --------------------------------------------------------------------- */
ot_status ot_ew_clip_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_clip_grad_attrs *a = attrs;
    OT_TRY(ot_attr_get_float(n, "min", -INFINITY, &a->lo));
    OT_TRY(ot_attr_get_float(n, "max", INFINITY, &a->hi));
    return OT_OK;
}

ot_status ot_ew_clip_grad_infer(ot_kctx *c) {
    OT_TRY(grad_same(c, 0, 1, true));
    const ot_tensor *x = ot_in(c, 1);
    for (int i = 2; i < 4; i++) {
        const ot_tensor *t = ot_in(c, i);
        if (t && (t->dtype != x->dtype || ot_tensor_numel(t) != 1))
            return ot_op_error(c, OT_ERR_SHAPE, "input %d (a bound) must be one element of x's type", i);
    }
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_clip_grad_cpu(ot_kctx *c) {
    const ot_ew_clip_grad_attrs *a = c->attrs;
    return ot_cpu_clip_grad(c->in[0], c->in[1], ot_in(c, 2), ot_in(c, 3), a->lo, a->hi, c->out[0]);
}

/* ---- DropoutGrad ------------------------------------------------------------------- */
ot_status ot_ew_dropout_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_dropout_grad_attrs *a = attrs;
    if (!ot_node_attr(n, "seed_node")) return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'seed_node' is required");
    OT_TRY(ot_attr_get_int(n, "seed_node", 0, &a->seed_node));
    a->has_seed = ot_node_attr(n, "seed") != NULL;
    OT_TRY(ot_attr_get_int(n, "seed", 0, &a->seed));
    OT_TRY(ot_attr_get_float(n, "ratio", 0.5f, &a->ratio));
    if (a->seed_node < 0) return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "seed_node must be >= 0");
    return OT_OK;
}

ot_status ot_ew_dropout_grad_infer(ot_kctx *c) {
    OT_TRY(ot_ew_check_input(c, 0, OT_EW_DT_FLOAT));
    const ot_tensor *dy = ot_in(c, 0), *r = ot_in(c, 1), *t = ot_in(c, 2), *m = ot_in(c, 3);
    if (r && (!ot_dtype_is_float(r->dtype) || ot_tensor_numel(r) != 1 || r->rank > 1))
        return ot_op_error(c, OT_ERR_SHAPE, "'ratio' must be a float scalar");
    if (t && (t->dtype != OT_BOOL || ot_tensor_numel(t) != 1 || t->rank > 1))
        return ot_op_error(c, OT_ERR_SHAPE, "'training_mode' must be a bool scalar");
    if (m && ((m->dtype != OT_BOOL && !ot_dtype_is_float(m->dtype)) || !ot_shape_equal(m->rank, m->dims, dy->rank, dy->dims)))
        return ot_op_error(c, OT_ERR_SHAPE, "'mask' must be bool or float and have dy's shape");
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    return OT_OK;
}

/* The ratio, activity and random stream exactly as ot_ew_dropout_cpu
   derives them for the forward node. */
ot_status ot_ew_dropout_grad_cpu(ot_kctx *c) {
    const ot_ew_dropout_grad_attrs *a = c->attrs;
    const ot_tensor *r = ot_in(c, 1), *t = ot_in(c, 2);
    double ratio = r ? ot_load_f64(r->dtype, r->data, 0) : a->ratio;
    bool train = c->training || (t && ((const uint8_t *)t->data)[0]);
    if (!(ratio >= 0.0 && ratio <= 1.0)) return ot_op_error(c, OT_ERR_INVALID_ARG, "ratio %g is outside [0, 1]", ratio);
    uint64_t seed = a->has_seed ? (uint64_t)a->seed : c->seed;
    ot_rng rng = ot_rng_make(seed, (uint64_t)a->seed_node, c->step);
    return ot_cpu_dropout_grad(c->in[0], ratio, train, &rng, ot_in(c, 3), c->out[0]);
}
