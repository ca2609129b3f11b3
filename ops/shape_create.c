/* Op family: shape — ops that create tensors: Constant, ConstantOfShape,
 * Range, OneHot. */
#include <math.h>
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "shape_ops.h"

/* ---- Constant -------------------------------------------------------------------- */

enum { OT_CONST_TENSOR, OT_CONST_FLOAT, OT_CONST_FLOATS, OT_CONST_INT, OT_CONST_INTS };

static const char *const ot_const_attr_names[] = {"value",     "sparse_value", "value_float",  "value_floats",
                                                  "value_int", "value_ints",   "value_string", "value_strings"};

ot_status ot_constant_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_constant_attrs *a = attrs;
    const ot_attr *at = NULL;
    int found = -1;
    (void)opset;
    for (int i = 0; i < (int)(sizeof ot_const_attr_names / sizeof ot_const_attr_names[0]); i++) {
        const ot_attr *x = ot_node_attr(n, ot_const_attr_names[i]);
        if (!x) continue;
        if (at) return ot_node_error(n, OT_ERR_PARSE, "exactly one value attribute allowed; found '%s' and '%s'",
                                     ot_const_attr_names[found], ot_const_attr_names[i]);
        at = x;
        found = i;
    }
    if (!at) return ot_node_error(n, OT_ERR_PARSE, "no value attribute");
    switch (found) {
    case 0:
    case 1:
        if ((at->type != OT_ATTR_TENSOR && at->type != OT_ATTR_SPARSE_TENSOR) || !at->t)
            return ot_node_error(n, OT_ERR_PARSE, "attribute '%s' must be a tensor", at->name);
        if (ot_dtype_size(at->t->dtype) == 0)
            return ot_node_error(n, OT_ERR_UNSUPPORTED, "constants of type %s are not supported",
                                 ot_dtype_name(at->t->dtype));
        if (!at->t->data && ot_tensor_numel(at->t) > 0)
            return ot_node_error(n, OT_ERR_PARSE, "attribute '%s' holds no data", at->name);
        a->kind = OT_CONST_TENSOR;
        return OT_OK;
    case 2: a->kind = OT_CONST_FLOAT; return ot_attr_get_float(n, at->name, 0, &(float){0});
    case 3: a->kind = OT_CONST_FLOATS; break;
    case 4: a->kind = OT_CONST_INT; break;
    case 5: a->kind = OT_CONST_INTS; break;
    default: return ot_node_error(n, OT_ERR_UNSUPPORTED, "string constants ('%s') are not supported", at->name);
    }
    static const ot_attr_type want[] = {0, 0, 0, OT_ATTR_FLOATS, OT_ATTR_INT, OT_ATTR_INTS};
    if (at->type != want[found]) return ot_node_error(n, OT_ERR_PARSE, "attribute '%s' has the wrong type", at->name);
    return OT_OK;
}

/* The one value attribute present (parse checked it). */
static const ot_attr *ot_constant_attr(const ot_kctx *c) {
    for (int i = 0; i < 6; i++) {
        const ot_attr *a = ot_node_attr(c->node, ot_const_attr_names[i]);
        if (a) return a;
    }
    return NULL;
}

ot_status ot_constant_infer(ot_kctx *c) {
    const ot_attr *a = ot_constant_attr(c);
    int64_t n;
    if (!a) return ot_op_error(c, OT_ERR_INTERNAL, "value attribute vanished");
    switch (((const ot_constant_attrs *)c->attrs)->kind) {
    case OT_CONST_TENSOR: return ot_shape_set_out(c, 0, a->t->dtype, a->t->rank, a->t->dims);
    case OT_CONST_FLOAT: ot_set_out(c, 0, OT_FLOAT, 0, NULL); return OT_OK;
    case OT_CONST_INT: ot_set_out(c, 0, OT_INT64, 0, NULL); return OT_OK;
    case OT_CONST_FLOATS: n = a->n; ot_set_out(c, 0, OT_FLOAT, 1, &n); return OT_OK;
    default: n = a->n; ot_set_out(c, 0, OT_INT64, 1, &n); return OT_OK;
    }
}

ot_status ot_constant_cpu(ot_kctx *c) {
    const ot_attr *a = ot_constant_attr(c);
    void *y = c->out[0]->data;
    if (!a) return ot_op_error(c, OT_ERR_INTERNAL, "value attribute vanished");
    switch (((const ot_constant_attrs *)c->attrs)->kind) {
    case OT_CONST_TENSOR:
        if (a->t->data) ot_k_copy_bytes(y, a->t->data, ot_tensor_nbytes(a->t));
        break;
    case OT_CONST_FLOAT: {
        float f;
        OT_TRY(ot_attr_get_float(c->node, a->name, 0, &f));
        *(float *)y = f;
        break;
    }
    case OT_CONST_INT: *(int64_t *)y = a->i; break;
    case OT_CONST_FLOATS: if (a->n) memcpy(y, a->floats, sizeof(float) * (size_t)a->n); break;
    default: if (a->n) memcpy(y, a->ints, sizeof(int64_t) * (size_t)a->n); break;
    }
    return OT_OK;
}

/* ---- ConstantOfShape ------------------------------------------------------------- */

ot_status ot_constant_of_shape_parse(const ot_node *n, int64_t opset, void *attrs) {
    const ot_tensor *v;
    (void)opset;
    (void)attrs;
    OT_TRY(ot_attr_get_tensor(n, "value", &v));
    if (!v) return OT_OK;
    if (ot_dtype_size(v->dtype) == 0)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "a value of type %s is not supported", ot_dtype_name(v->dtype));
    if (ot_tensor_numel(v) != 1 || !v->data)
        return ot_node_error(n, OT_ERR_PARSE, "'value' must hold exactly one element");
    return OT_OK;
}

ot_status ot_constant_of_shape_infer(ot_kctx *c) {
    const ot_tensor *v;
    int64_t dims[OT_MAX_RANK];
    int n;
    OT_TRY(ot_attr_get_tensor(c->node, "value", &v));
    OT_TRY(ot_shape_read_ints(c, 0, "input", dims, OT_MAX_RANK, &n));
    for (int k = 0; k < n; k++)
        if (dims[k] < 0) return ot_op_error(c, OT_ERR_SHAPE, "dim %d is negative (%lld)", k, (long long)dims[k]);
    return ot_shape_set_out(c, 0, v ? v->dtype : OT_FLOAT, n, dims);
}

ot_status ot_constant_of_shape_cpu(ot_kctx *c) {
    const ot_tensor *v;
    ot_tensor *y = c->out[0];
    static const float zero = 0.0f;
    OT_TRY(ot_attr_get_tensor(c->node, "value", &v));
    ot_k_fill(y->data, ot_tensor_numel(y), v ? v->data : &zero, ot_dtype_size(y->dtype));
    return OT_OK;
}

/* ---- Range ----------------------------------------------------------------------- */

static bool ot_range_int(ot_dtype t) { return t == OT_INT16 || t == OT_INT32 || t == OT_INT64; }
static bool ot_range_half(ot_dtype t) { return t == OT_FLOAT16 || t == OT_BFLOAT16; }

ot_status ot_range_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_range_attrs *a = attrs;
    (void)opset;
    OT_TRY(ot_attr_get_int(n, "stash_type", OT_FLOAT, &a->stash_type));
    if (a->stash_type != OT_FLOAT && a->stash_type != OT_DOUBLE)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "stash_type %lld (1 = float or 11 = double)",
                             (long long)a->stash_type);
    return OT_OK;
}

/* Number of elements: max(ceil((limit - start) / delta), 0). */
static ot_status ot_range_count(const ot_kctx *c, int64_t *count) {
    ot_dtype t = c->in[0]->dtype;
    if (ot_range_int(t)) {
        int64_t s = ot_load_i64(t, c->in[0]->data, 0), l = ot_load_i64(t, c->in[1]->data, 0);
        int64_t d = ot_load_i64(t, c->in[2]->data, 0), diff;
        if (d == 0) return ot_op_error(c, OT_ERR_SHAPE, "delta is 0");
        if (__builtin_sub_overflow(l, s, &diff)) return ot_op_error(c, OT_ERR_NOMEM, "range too large");
        if (d == -1 && diff == INT64_MIN) return ot_op_error(c, OT_ERR_NOMEM, "range too large");
        int64_t q = diff / d;
        if (diff % d != 0 && ((diff > 0) == (d > 0))) q++;
        *count = q > 0 ? q : 0;
    } else {
        double s = ot_load_f64(t, c->in[0]->data, 0), l = ot_load_f64(t, c->in[1]->data, 0);
        double d = ot_load_f64(t, c->in[2]->data, 0);
        if (d == 0) return ot_op_error(c, OT_ERR_SHAPE, "delta is 0");
        double q = ceil((l - s) / d);
        if (isnan(q)) return ot_op_error(c, OT_ERR_NUMERIC, "start, limit or delta is not finite");
        if (q > (double)OT_MAX_NUMEL) return ot_op_error(c, OT_ERR_NOMEM, "range of %g elements is too large", q);
        *count = q > 0 ? (int64_t)q : 0;
    }
    return OT_OK;
}

ot_status ot_range_infer(ot_kctx *c) {
    static const char *const names[] = {"start", "limit", "delta"};
    ot_dtype t = c->in[0]->dtype;
    int64_t n;
    if (t != OT_FLOAT && t != OT_DOUBLE && !ot_range_int(t) && !ot_range_half(t))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "type %s (float, double, int16, int32, int64, float16, bfloat16)",
                           ot_dtype_name(t));
    for (int i = 0; i < 3; i++) {
        const ot_tensor *x = c->in[i];
        if (x->dtype != t)
            return ot_op_error(c, OT_ERR_TYPE, "'%s' has type %s, 'start' has %s", names[i], ot_dtype_name(x->dtype),
                               ot_dtype_name(t));
        if (ot_tensor_numel(x) != 1) return ot_op_error(c, OT_ERR_SHAPE, "'%s' must be a scalar", names[i]);
    }
    for (int i = 0; i < 3; i++) OT_TRY(ot_need_value(c, i));
    OT_TRY(ot_range_count(c, &n));
    ot_set_out(c, 0, t, 1, &n);
    return OT_OK;
}

ot_status ot_range_cpu(ot_kctx *c) {
    ot_dtype t = c->in[0]->dtype;
    ot_tensor *y = c->out[0];
    int64_t n = y->dims[0];
    if (ot_range_int(t)) {
        int64_t s = ot_load_i64(t, c->in[0]->data, 0), d = ot_load_i64(t, c->in[2]->data, 0);
        for (int64_t i = 0; i < n; i++) ot_store_i64(t, y->data, i, s + i * d); /* stays within [start, limit) */
        return OT_OK;
    }
    double s = ot_load_f64(t, c->in[0]->data, 0), d = ot_load_f64(t, c->in[2]->data, 0);
    if (ot_range_half(t) && ((const ot_range_attrs *)c->attrs)->stash_type == OT_FLOAT) {
        float sf = (float)s, df = (float)d; /* start + i * delta in float32, then rounded to the half type */
        for (int64_t i = 0; i < n; i++) ot_store_f64(t, y->data, i, sf + (float)i * df);
    } else {
        /* in double and rounded once, as numpy.arange does */
        for (int64_t i = 0; i < n; i++) ot_store_f64(t, y->data, i, s + (double)i * d);
    }
    return OT_OK;
}

/* ---- OneHot ---------------------------------------------------------------------- */

ot_status ot_onehot_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_attr_get_int(n, "axis", -1, &((ot_axis_attrs *)attrs)->axis);
}

static ot_status ot_onehot_depth(ot_kctx *c, int64_t *depth) {
    const ot_tensor *d = c->in[1];
    if (!ot_dtype_is_numeric(d->dtype) || d->dtype == OT_BOOL || ot_tensor_numel(d) != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "'depth' must be one number");
    OT_TRY(ot_need_value(c, 1));
    if (ot_dtype_is_float(d->dtype)) {
        double v = ot_load_f64(d->dtype, d->data, 0);
        if (!(v >= 0 && v <= (double)OT_MAX_NUMEL)) return ot_op_error(c, OT_ERR_SHAPE, "depth %g is invalid", v);
        *depth = (int64_t)v;
    } else {
        *depth = ot_load_i64(d->dtype, d->data, 0);
    }
    if (*depth < 0 || *depth > OT_MAX_NUMEL) return ot_op_error(c, OT_ERR_SHAPE, "depth %lld is invalid", (long long)*depth);
    return OT_OK;
}

ot_status ot_onehot_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *v = c->in[2];
    int64_t axis = ((const ot_axis_attrs *)c->attrs)->axis, depth, dims[OT_MAX_RANK];
    int r = x->rank;
    if (!ot_dtype_is_numeric(x->dtype) || x->dtype == OT_BOOL)
        return ot_op_error(c, OT_ERR_TYPE, "indices of type %s are not supported", ot_dtype_name(x->dtype));
    if (ot_dtype_size(v->dtype) == 0)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "values of type %s are not supported", ot_dtype_name(v->dtype));
    if (ot_tensor_numel(v) != 2) return ot_op_error(c, OT_ERR_SHAPE, "'values' must hold [off_value, on_value]");
    if (axis < -r - 1 || axis > r) return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range [%d, %d]", (long long)axis, -r - 1, r);
    if (axis < 0) axis += r + 1;
    if (r + 1 > OT_MAX_RANK) return ot_op_error(c, OT_ERR_UNSUPPORTED, "output rank exceeds %d", OT_MAX_RANK);
    OT_TRY(ot_onehot_depth(c, &depth));
    for (int k = 0, j = 0; k <= r; k++) dims[k] = k == axis ? depth : x->dims[j++];
    return ot_shape_set_out(c, 0, v->dtype, r + 1, dims);
}

ot_status ot_onehot_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *v = c->in[2];
    ot_tensor *y = c->out[0];
    int64_t axis = ((const ot_axis_attrs *)c->attrs)->axis, depth;
    int r = x->rank;
    size_t es = ot_dtype_size(v->dtype);
    if (axis < 0) axis += r + 1;
    OT_TRY(ot_onehot_depth(c, &depth));
    /* y viewed as (pre, depth, post) where x is (pre, post) */
    int64_t pre = ot_shape_count((int)axis, x->dims), post = ot_shape_count(r - (int)axis, x->dims + axis);
    bool is_float = ot_dtype_is_float(x->dtype);
    ot_k_fill(y->data, ot_tensor_numel(y), v->data, es);
    for (int64_t p = 0; p < pre; p++)
        for (int64_t q = 0; q < post; q++) {
            int64_t e = p * post + q, idx;
            if (is_float) {
                double f = ot_load_f64(x->dtype, x->data, e);
                if (!(f > -(double)depth - 1 && f < (double)depth)) continue;
                idx = (int64_t)f;
            } else {
                idx = ot_load_i64(x->dtype, x->data, e);
                if (x->dtype == OT_UINT64 && (uint64_t)idx > (uint64_t)INT64_MAX) continue;
            }
            /* negative indices count from the end from opset 11 on */
            if (idx < 0 && c->opset >= 11) idx += depth;
            if (idx < 0 || idx >= depth) continue;
            memcpy((char *)y->data + ((p * depth + idx) * post + q) * (int64_t)es, (const char *)v->data + es, es);
        }
    return OT_OK;
}
