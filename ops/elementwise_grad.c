/* Gradient rules of the elementwise family (ops/grad.h).  Linear ops and
 * one-op derivatives use forward ops (Add's gradient is dy, Mul's is Mul,
 * Exp's is Mul(dy, y)); activations and everything with a select use the
 * fused ai.onnxtrain ops of elementwise_grad_ops.c.  Conventions at kinks and
 * ties follow PyTorch 1.13 (see kernels/cpu/elementwise_grad.h).  Broadcast
 * gradients are summed back to each input's shape by ot_grad_set. */
#include "../src/core/alloc.h"
#include "elementwise_ops.h"

#define ATTR_INT(nm, v) ((ot_grad_attr){.name = (nm), .type = OT_ATTR_INT, .i = (v)})
#define ATTR_FLOAT(nm, v) ((ot_grad_attr){.name = (nm), .type = OT_ATTR_FLOAT, .f = (v)})

/* A rule has nothing to do when no gradient flows in. */
#define DY_OR_DONE(g, dy)                 \
    int dy = ot_grad_dy((g), 0);          \
    if (dy < 0) return OT_OK

static ot_dtype value_dtype(const ot_grad_ctx *g, int v) { return ot_grad_value(g, v)->dtype; }

/* ---- unary ------------------------------------------------------------------------ */
static bool ugrad_op_of(ot_unary_op op, ot_unary_grad_op *out) {
    switch (op) {
#define OT_X(name, op_name, uses_y) \
    case OT_UN_##name: *out = OT_UG_##name; return true;
        OT_UNARY_GRAD_OPS(OT_X)
#undef OT_X
    default: return false;
    }
}

ot_status ot_ew_unary_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    if (!ot_grad_needs(g, 0)) return OT_OK;
    const ot_ew_unary_attrs *a = ot_grad_attrs(g);
    int x = ot_grad_x(g, 0), y = ot_grad_y(g, 0), dx;
    switch (a->op) {
    case OT_UN_NEG: OT_TRY(ot_grad_op1(g, "Neg", dy, &dx)); break;
    case OT_UN_EXP: OT_TRY(ot_grad_op2(g, "Mul", dy, y, &dx)); break;
    case OT_UN_LOG: OT_TRY(ot_grad_op2(g, "Div", dy, x, &dx)); break;
    /* Piecewise constant: the gradient is zero almost everywhere (PyTorch
       too), so nothing flows and autodiff treats the input's as zero. */
    case OT_UN_FLOOR: case OT_UN_CEIL: case OT_UN_ROUND: case OT_UN_SIGN: return OT_OK;
    default: {
        ot_unary_grad_op op;
        ot_ew_ugrad_info info;
        if (!ugrad_op_of(a->op, &op) || !ot_ew_ugrad_info_of(op, &info))
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): no gradient rule for this op", ot_grad_node(g)->name,
                            ot_grad_node(g)->op_type);
        ot_grad_attr at[3];
        int n_at = 0;
        if (info.a) at[n_at++] = ATTR_FLOAT(info.a, a->p.alpha);
        if (info.b) at[n_at++] = ATTR_FLOAT(info.b, a->p.beta);
        if (info.g) at[n_at++] = ATTR_FLOAT(info.g, a->p.gamma);
        if (op == OT_UG_GELU_TANH)
            at[n_at++] = (ot_grad_attr){.name = "approximate", .type = OT_ATTR_STRING, .s = "tanh"};
        int in[2] = {dy, info.uses_y ? y : x};
        OT_TRY(ot_grad_emit(g, info.name, OT_DOMAIN_TRAIN, 2, in, 1, &dx, n_at, at));
    }
    }
    return ot_grad_set(g, 0, dx);
}

ot_status ot_ew_zero_grad_rule(ot_grad_ctx *g) {
    (void)g;
    return OT_OK;
}

/* ---- Add / Sub / Mul / Div ---------------------------------------------------------- */
ot_status ot_ew_add_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    OT_TRY(ot_grad_set(g, 0, dy));
    return ot_grad_set(g, 1, dy);
}

ot_status ot_ew_sub_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    OT_TRY(ot_grad_set(g, 0, dy));
    if (!ot_grad_needs(g, 1)) return OT_OK;
    int s, n; /* negate after the broadcast sum: fewer elements */
    OT_TRY(ot_grad_sum_to(g, dy, ot_grad_x(g, 1), &s));
    OT_TRY(ot_grad_op1(g, "Neg", s, &n));
    return ot_grad_set(g, 1, n);
}

ot_status ot_ew_mul_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    int a = ot_grad_x(g, 0), b = ot_grad_x(g, 1), d;
    if (ot_grad_needs(g, 0)) {
        OT_TRY(ot_grad_op2(g, "Mul", dy, b, &d));
        OT_TRY(ot_grad_set(g, 0, d));
    }
    if (ot_grad_needs(g, 1)) {
        OT_TRY(ot_grad_op2(g, "Mul", dy, a, &d));
        OT_TRY(ot_grad_set(g, 1, d));
    }
    return OT_OK;
}

/* y = a / b: da = dy / b, db = -dy * a / b^2 = -(dy / b) * y. */
ot_status ot_ew_div_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    int b = ot_grad_x(g, 1), t, m, s, n;
    OT_TRY(ot_grad_op2(g, "Div", dy, b, &t));
    OT_TRY(ot_grad_set(g, 0, t));
    if (!ot_grad_needs(g, 1)) return OT_OK;
    OT_TRY(ot_grad_op2(g, "Mul", t, ot_grad_y(g, 0), &m));
    OT_TRY(ot_grad_sum_to(g, m, b, &s));
    OT_TRY(ot_grad_op1(g, "Neg", s, &n));
    return ot_grad_set(g, 1, n);
}

/* ---- Pow / PRelu: one grad op per input that needs a gradient ------------------------ */
/* in: the grad op's inputs; the first n_in[i] of them for input i's. */
static ot_status wrt_grad(ot_grad_ctx *g, const char *op, const int *n_in, const int *in) {
    for (int i = 0; i < 2; i++) {
        if (!ot_grad_needs(g, i)) continue;
        ot_grad_attr at = ATTR_INT("wrt", i);
        int d;
        OT_TRY(ot_grad_emit(g, op, OT_DOMAIN_TRAIN, n_in[i], in, 1, &d, 1, &at));
        OT_TRY(ot_grad_set(g, i, d));
    }
    return OT_OK;
}

ot_status ot_ew_pow_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const int in[4] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_y(g, 0)}, n_in[2] = {3, 4}; /* de reads y */
    return wrt_grad(g, "PowGrad", n_in, in);
}

ot_status ot_ew_prelu_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const int in[3] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1)}, n_in[2] = {3, 3};
    return wrt_grad(g, "PReluGrad", n_in, in);
}

/* ---- variadic ------------------------------------------------------------------------ */
ot_status ot_ew_sum_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    for (int i = 0; i < ot_grad_node(g)->n_inputs; i++) OT_TRY(ot_grad_set(g, i, dy));
    return OT_OK;
}

ot_status ot_ew_mean_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const int n = ot_grad_node(g)->n_inputs;
    int c, d;
    OT_TRY(ot_grad_const_scalar(g, value_dtype(g, dy), 1.0 / n, &c));
    OT_TRY(ot_grad_op2(g, "Mul", dy, c, &d));
    for (int i = 0; i < n; i++) OT_TRY(ot_grad_set(g, i, d));
    return OT_OK;
}

/* Each input gets dy where it equals the result, split among ties. */
ot_status ot_ew_minmax_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const int n = ot_grad_node(g)->n_inputs;
    if (n == 1) return ot_grad_set(g, 0, dy);
    int *in = ot_malloc(sizeof(int) * (size_t)(n + 2));
    if (!in) return ot_error(OT_ERR_NOMEM, "out of memory");
    in[0] = dy;
    in[1] = ot_grad_y(g, 0);
    for (int i = 0; i < n; i++) in[2 + i] = ot_grad_x(g, i);
    ot_status s = OT_OK;
    for (int i = 0; i < n && !s; i++) {
        if (!ot_grad_needs(g, i)) continue;
        ot_grad_attr at = ATTR_INT("input", i);
        int d;
        s = ot_grad_emit(g, "MinMaxGrad", OT_DOMAIN_TRAIN, n + 2, in, 1, &d, 1, &at);
        if (!s) s = ot_grad_set(g, i, d);
    }
    ot_free(in);
    return s;
}

/* ---- Where, Clip -------------------------------------------------------------------- */
ot_status ot_ew_where_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    int zero, cond = ot_grad_x(g, 0), d;
    OT_TRY(ot_grad_const_scalar(g, value_dtype(g, dy), 0.0, &zero));
    if (ot_grad_needs(g, 1)) {
        int in[3] = {cond, dy, zero};
        OT_TRY(ot_grad_emit(g, "Where", "", 3, in, 1, &d, 0, NULL));
        OT_TRY(ot_grad_set(g, 1, d));
    }
    if (ot_grad_needs(g, 2)) {
        int in[3] = {cond, zero, dy};
        OT_TRY(ot_grad_emit(g, "Where", "", 3, in, 1, &d, 0, NULL));
        OT_TRY(ot_grad_set(g, 2, d));
    }
    return OT_OK;
}

/* Bounds are attributes before opset 11 and inputs after; they get no
   gradient (PyTorch's clamp has none for scalar bounds either). */
ot_status ot_ew_clip_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    if (!ot_grad_needs(g, 0)) return OT_OK;
    int d;
    if (ot_grad_opset(g) < 11) {
        const ot_ew_clip_attrs *a = ot_grad_attrs(g);
        ot_grad_attr at[2] = {ATTR_FLOAT("min", a->lo), ATTR_FLOAT("max", a->hi)};
        int in[2] = {dy, ot_grad_x(g, 0)};
        OT_TRY(ot_grad_emit(g, "ClipGrad", OT_DOMAIN_TRAIN, 2, in, 1, &d, 2, at));
    } else {
        int in[4] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_x(g, 2)};
        int n_in = in[3] >= 0 ? 4 : in[2] >= 0 ? 3 : 2;
        OT_TRY(ot_grad_emit(g, "ClipGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &d, 0, NULL));
    }
    return ot_grad_set(g, 0, d);
}

/* ---- Cast, CastLike, Identity ------------------------------------------------------ */
/* Between float types the gradient is dy cast back; to or from an integer
   or bool the cast is piecewise constant and nothing flows. */
ot_status ot_ew_cast_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    if (!ot_grad_needs(g, 0)) return OT_OK;
    const ot_dtype tx = value_dtype(g, ot_grad_x(g, 0)), tdy = value_dtype(g, dy);
    if (!ot_dtype_is_float(tx) || !ot_dtype_is_float(tdy)) return OT_OK;
    if (tx == tdy) return ot_grad_set(g, 0, dy);
    ot_grad_attr to = ATTR_INT("to", (int64_t)tx);
    int d;
    OT_TRY(ot_grad_emit(g, "Cast", "", 1, &dy, 1, &d, 1, &to));
    return ot_grad_set(g, 0, d);
}

ot_status ot_ew_identity_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    return ot_grad_set(g, 0, dy);
}

/* ---- Dropout -------------------------------------------------------------------------- */
/* DropoutGrad reads the forward's mask output when the graph has it, and
   otherwise regenerates the mask from the forward's random stream. */
ot_status ot_ew_dropout_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    if (!ot_grad_needs(g, 0)) return OT_OK;
    const ot_ew_dropout_attrs *a = ot_grad_attrs(g);
    const bool inputs = ot_grad_opset(g) >= 12; /* ratio and training_mode are inputs from 12 */
    int in[4] = {dy, inputs ? ot_grad_x(g, 1) : -1, inputs ? ot_grad_x(g, 2) : -1, ot_grad_y(g, 1)};
    int n_in = 4;
    while (n_in > 1 && in[n_in - 1] < 0) n_in--;
    int64_t node = 0;
    if (in[3] < 0) node = ot_grad_node_index(g); /* the forward's random stream */
    ot_grad_attr at[3] = {ATTR_INT("seed_node", node), ATTR_FLOAT("ratio", inputs ? 0.5f : a->ratio)};
    int n_at = 2;
    if (a->has_seed) at[n_at++] = ATTR_INT("seed", a->seed);
    int d;
    OT_TRY(ot_grad_emit(g, "DropoutGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &d, n_at, at));
    return ot_grad_set(g, 0, d);
}
