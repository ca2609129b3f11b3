/* Misc family, random ops: RandomUniformLike (1, 22) and Bernoulli (15, 22).
 *
 * Both draw from the project's counter-based generator the way Dropout
 * does: element i of node k at step s uses the words of (seed, k, s, i), so
 * results do not depend on threads or backends.  The seed is the session's
 * unless the node has a `seed` attribute, which replaces it (as numpy's
 * RandomState(int(seed)) would; the values still differ from numpy's).
 * OT_TRAIT_RANDOM keeps the compiler from folding them. */
#include <math.h>

#include "misc_ops.h"

ot_status ot_random_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_random_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "dtype", 0, &a->dtype));
    OT_TRY(ot_attr_get_float(n, "low", 0.0f, &a->low));
    OT_TRY(ot_attr_get_float(n, "high", 1.0f, &a->high));
    OT_TRY(ot_attr_get_float(n, "seed", NAN, &a->seed));
    a->has_seed = !isnan(a->seed); /* NaN, like no seed, asks for the session's */
    if (a->has_seed && !(fabsf(a->seed) < 4.6e18f))
        return ot_node_error(n, OT_ERR_INVALID_ARG, "'seed' %g is not a representable integer", (double)a->seed);
    if (!(a->low <= a->high))
        return ot_node_error(n, OT_ERR_INVALID_ARG, "'low' (%g) must not exceed 'high' (%g)", (double)a->low,
                             (double)a->high);
    if (a->dtype && !ot_dtype_is_numeric((ot_dtype)a->dtype))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "'dtype' %lld is not a numeric or bool type onnxtrain supports",
                             (long long)a->dtype);
    return OT_OK;
}

static ot_rng random_stream(const ot_kctx *c) {
    const ot_random_attrs *a = c->attrs;
    const uint64_t seed = a->has_seed ? (uint64_t)(int64_t)a->seed : c->seed;
    return ot_rng_make(seed, (uint64_t)c->node_index, c->step);
}

/* ---- RandomUniformLike ----------------------------------------------------------- */

ot_status ot_random_uniform_like_infer(ot_kctx *c) {
    const ot_random_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    if (!ot_dtype_is_numeric(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported", ot_dtype_name(x->dtype));
    const ot_dtype t = a->dtype ? (ot_dtype)a->dtype : x->dtype;
    if (!ot_dtype_is_float(t))
        return ot_op_error(c, OT_ERR_TYPE, "the output type %s is not a float type%s", ot_dtype_name(t),
                           a->dtype ? "" : " (the input's; set 'dtype')");
    ot_set_out(c, 0, t, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_random_uniform_like_cpu(ot_kctx *c) {
    const ot_random_attrs *a = c->attrs;
    const ot_rng r = random_stream(c);
    return ot_cpu_random_uniform(&r, a->low, a->high, c->out[0]);
}

/* ---- Bernoulli ----------------------------------------------------------------------- */

ot_status ot_bernoulli_infer(ot_kctx *c) {
    const ot_random_attrs *a = c->attrs;
    OT_TRY(ot_misc_check_float(c, 0));
    const ot_tensor *p = c->in[0];
    ot_set_out(c, 0, a->dtype ? (ot_dtype)a->dtype : p->dtype, p->rank, p->dims);
    return OT_OK;
}

/* Probabilities outside [0, 1] are clamped by the comparison (u < p). */
ot_status ot_bernoulli_cpu(ot_kctx *c) {
    const ot_rng r = random_stream(c);
    return ot_cpu_bernoulli(&r, c->in[0], c->out[0]);
}
