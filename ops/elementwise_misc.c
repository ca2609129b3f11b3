/* Elementwise family, part 3: Cast, CastLike, Identity, Dropout. */
#include <string.h>

#include "elementwise_ops.h"
#include "../src/core/lowprec.h"

/* ---- Cast / CastLike ---------------------------------------------------------- */

/* Why an ONNX dtype number cannot be a Cast source or target, or NULL. */
static const char *ew_cast_unsupported(int t) {
    switch (t) {
    case 8: return "string tensors are not supported (Cast to/from string)";
    case 14: case 15: return "complex types are not supported";
    default:
        return ot_dtype_is_numeric((ot_dtype)t) || ot_dtype_is_lowprec((ot_dtype)t) ? NULL : "not a known ONNX data type";
    }
}

ot_status ot_ew_cast_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_ew_cast_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "saturate", 1, &a->saturate));
    if (ot_node_attr(n, "saturate") && opset < 19)
        return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'saturate' exists from opset 19");
    if (a->saturate != 0 && a->saturate != 1)
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "saturate must be 0 or 1, got %lld", (long long)a->saturate);
    /* round_mode (opset 24+) only affects casts to float8e8m0. */
    const char *round_mode;
    OT_TRY(ot_attr_get_string(n, "round_mode", "up", &round_mode));
    if (ot_node_attr(n, "round_mode") && opset < 24)
        return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'round_mode' exists from opset 24");
    if (strcmp(round_mode, "up") && strcmp(round_mode, "down") && strcmp(round_mode, "nearest"))
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "round_mode '%s' (expected up, down or nearest)", round_mode);
    a->round_mode = !strcmp(round_mode, "up") ? OT_ROUND_UP : !strcmp(round_mode, "down") ? OT_ROUND_DOWN : OT_ROUND_NEAREST;
    if (strcmp(n->op_type, "Cast")) return OT_OK; /* CastLike: the target is input 1's dtype */
    const ot_attr *to = ot_node_attr(n, "to");
    if (!to) return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'to' is required");
    if (to->type == OT_ATTR_STRING) /* opset 1 spelled it as a string */
        return ot_ew_node_error(n, OT_ERR_UNSUPPORTED, "'to' as a string is the opset-1 form; onnxtrain needs opset >= 6");
    int64_t t;
    OT_TRY(ot_attr_get_int(n, "to", 0, &t));
    const char *why = (t < 0 || t > 64) ? "not a known ONNX data type" : ew_cast_unsupported((int)t);
    if (why)
        return ot_ew_node_error(n, OT_ERR_UNSUPPORTED, "cannot cast to %s: %s", ot_ew_onnx_dtype_name((int)t), why);
    a->to = (int)t;
    return OT_OK;
}

static ot_status ew_cast_infer_to(ot_kctx *c, int to) {
    const ot_tensor *x = ot_in(c, 0);
    const char *why = ew_cast_unsupported((int)x->dtype);
    if (why)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "cannot cast from %s: %s", ot_ew_onnx_dtype_name((int)x->dtype),
                           why);
    why = ew_cast_unsupported(to);
    if (why) return ot_op_error(c, OT_ERR_UNSUPPORTED, "cannot cast to %s: %s", ot_ew_onnx_dtype_name(to), why);
    ot_set_out(c, 0, (ot_dtype)to, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_cast_infer(ot_kctx *c) {
    const ot_ew_cast_attrs *a = c->attrs;
    return ew_cast_infer_to(c, a->to);
}

ot_status ot_ew_castlike_infer(ot_kctx *c) { return ew_cast_infer_to(c, (int)ot_in(c, 1)->dtype); }

ot_status ot_ew_cast_cpu(ot_kctx *c) {
    const ot_ew_cast_attrs *a = c->attrs;
    return ot_cpu_cast_mode(c->in[0], c->out[0], a->saturate != 0, a->round_mode);
}

/* ---- Identity ---------------------------------------------------------------------- */
ot_status ot_ew_identity_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    if (!x) return ot_op_error(c, OT_ERR_UNSUPPORTED, "an absent (optional) input is not supported");
    if (!ot_dtype_size(x->dtype) || x->dtype == OT_STRING)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported",
                           ot_ew_onnx_dtype_name((int)x->dtype));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_identity_cpu(ot_kctx *c) {
    ot_cpu_copy(c->in[0], c->out[0]);
    return OT_OK;
}

/* ---- Dropout -------------------------------------------------------------------- */
ot_status ot_ew_dropout_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_ew_dropout_attrs *a = attrs;
    a->ratio = 0.5f;
    if (opset < 12) {
        if (ot_node_attr(n, "seed")) return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'seed' exists from opset 12");
        OT_TRY(ot_attr_get_float(n, "ratio", 0.5f, &a->ratio));
        if (!(a->ratio >= 0.0f && a->ratio <= 1.0f))
            return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "ratio %g is outside [0, 1]", (double)a->ratio);
        return OT_OK;
    }
    if (ot_node_attr(n, "ratio"))
        return ot_ew_node_error(n, OT_ERR_PARSE, "from opset 12 'ratio' is an input, not an attribute");
    a->has_seed = ot_node_attr(n, "seed") != NULL;
    OT_TRY(ot_attr_get_int(n, "seed", 0, &a->seed));
    return OT_OK;
}

ot_status ot_ew_dropout_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_ew_check_input(c, 0, OT_EW_DT_FLOAT));
    const ot_tensor *r = ot_in(c, 1), *t = ot_in(c, 2);
    if ((r || t) && c->opset < 12) return ot_op_error(c, OT_ERR_PARSE, "Dropout before opset 12 has one input");
    if (r) {
        OT_TRY(ot_ew_check_input(c, 1, OT_EW_DT_FLOAT));
        if (ot_tensor_numel(r) != 1 || r->rank > 1)
            return ot_op_error(c, OT_ERR_SHAPE, "'ratio' must be a scalar, got rank %d", r->rank);
    }
    if (t) {
        if (t->dtype != OT_BOOL)
            return ot_op_error(c, OT_ERR_TYPE, "'training_mode' must be bool, got %s", ot_dtype_name(t->dtype));
        if (ot_tensor_numel(t) != 1 || t->rank > 1)
            return ot_op_error(c, OT_ERR_SHAPE, "'training_mode' must be a scalar, got rank %d", t->rank);
    }
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    /* The mask is bool from opset 10, the data's type before. */
    ot_set_out(c, 1, c->opset >= 10 ? OT_BOOL : x->dtype, x->rank, x->dims);
    return OT_OK;
}

/* Active when the session trains (DESIGN: dropout is on in training) or the
   graph asks for it through training_mode. */
ot_status ot_ew_dropout_cpu(ot_kctx *c) {
    const ot_ew_dropout_attrs *a = c->attrs;
    double ratio = a->ratio;
    bool train = c->training;
    const ot_tensor *r = ot_in(c, 1), *t = ot_in(c, 2);
    if (c->opset >= 12) {
        ratio = r ? ot_load_f64(r->dtype, r->data, 0) : 0.5;
        if (t && ((const uint8_t *)t->data)[0]) train = true;
    }
    if (!(ratio >= 0.0 && ratio <= 1.0)) return ot_op_error(c, OT_ERR_INVALID_ARG, "ratio %g is outside [0, 1]", ratio);
    uint64_t seed = a->has_seed ? (uint64_t)a->seed : c->seed;
    ot_rng rng = ot_rng_make(seed, (uint64_t)c->node_index, c->step);
    return ot_cpu_dropout(c->in[0], ratio, train, &rng, c->out[0], ot_out(c, 1));
}
