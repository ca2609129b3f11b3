/* Op family: shape — Pad (constant/reflect/edge/wrap, negative pads crop) and
 * Trilu (triangular masks of the innermost two dims). */
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "shape_ops.h"

/* ---- Pad ------------------------------------------------------------------------ */

ot_status ot_pad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_pad_attrs *a = attrs;
    const char *mode;
    OT_TRY(ot_attr_get_string(n, "mode", "constant", &mode));
    if (!strcmp(mode, "constant")) a->mode = OT_K_PAD_CONSTANT;
    else if (!strcmp(mode, "reflect")) a->mode = OT_K_PAD_REFLECT;
    else if (!strcmp(mode, "edge")) a->mode = OT_K_PAD_EDGE;
    else if (!strcmp(mode, "wrap")) a->mode = OT_K_PAD_WRAP;
    else return ot_node_error(n, OT_ERR_UNSUPPORTED, "unknown mode '%s' (constant, reflect, edge or wrap)", mode);
    if (opset >= 11) {
        if (ot_node_attr(n, "pads") || ot_node_attr(n, "value"))
            return ot_node_error(n, OT_ERR_PARSE, "from opset 11 'pads' and 'value' are inputs, not attributes");
        return OT_OK;
    }
    const int64_t *pads;
    OT_TRY(ot_attr_get_ints(n, "pads", &pads, &a->n_pads));
    if (a->n_pads < 0) return ot_node_error(n, OT_ERR_PARSE, "attribute 'pads' is required");
    if (a->n_pads > 2 * OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "'pads' has %d entries; the rank limit is %d", a->n_pads,
                             OT_MAX_RANK);
    memcpy(a->pads, pads, sizeof(int64_t) * (size_t)a->n_pads);
    return ot_attr_get_float(n, "value", 0.0f, &a->value);
}

/* Per axis of an input of dims (r, dims): elements added before (begin) and
   after (end) it; negative crops.  The pads come from the opset < 11
   attribute of `a` (from_attrs) or from inputs 1 (pads) and 3 (axes) of c.
   Pad resolves its own input's pads here; PadGrad the forward's. */
ot_status ot_pad_resolve(ot_kctx *c, const ot_pad_attrs *a, bool from_attrs, int r, const int64_t *dims,
                         int64_t *begin, int64_t *end) {
    int64_t pads[2 * OT_MAX_RANK], axes[OT_MAX_RANK];
    int np, na = -1;
    bool seen[OT_MAX_RANK] = {0};
    if (from_attrs) {
        np = a->n_pads;
        memcpy(pads, a->pads, sizeof(int64_t) * (size_t)np);
    } else {
        if (!ot_in(c, 1)) return ot_op_error(c, OT_ERR_SHAPE, "input 'pads' is required");
        OT_TRY(ot_shape_read_ints(c, 1, "pads", pads, 2 * OT_MAX_RANK, &np));
        if (ot_in(c, 3)) OT_TRY(ot_shape_read_ints(c, 3, "axes", axes, OT_MAX_RANK, &na));
    }
    int n = na >= 0 ? na : r;
    if (np != 2 * n)
        return ot_op_error(c, OT_ERR_SHAPE, "'pads' has %d entries; %d expected (2 per %s)", np, 2 * n,
                           na >= 0 ? "listed axis" : "input axis");
    for (int k = 0; k < r; k++) begin[k] = end[k] = 0;
    for (int i = 0; i < n; i++) {
        int64_t ax = na >= 0 ? axes[i] : i;
        if (ax < -r || ax >= r) return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)ax, r);
        if (ax < 0) ax += r;
        if (seen[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %lld listed twice", (long long)ax);
        seen[ax] = true;
        begin[ax] = pads[i];
        end[ax] = pads[n + i];
    }
    for (int k = 0; k < r; k++) {
        int64_t d = dims[k], b = begin[k], e = end[k];
        if (b < -OT_MAX_NUMEL || b > OT_MAX_NUMEL || e < -OT_MAX_NUMEL || e > OT_MAX_NUMEL)
            return ot_op_error(c, OT_ERR_SHAPE, "pads of axis %d out of range", k);
        int64_t kept = d + (b < 0 ? b : 0) + (e < 0 ? e : 0); /* input elements left after cropping */
        if (kept < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "pads (%lld, %lld) crop more than axis %d's %lld elements",
                               (long long)b, (long long)e, k, (long long)d);
        if (a->mode != OT_K_PAD_CONSTANT && kept == 0 && (b > 0 || e > 0))
            return ot_op_error(c, OT_ERR_SHAPE, "axis %d has no elements to pad from in this mode", k);
    }
    return OT_OK;
}

static ot_status ot_pad_params(ot_kctx *c, int64_t *begin, int64_t *end) {
    if (c->opset < 11 && c->n_in > 1) return ot_op_error(c, OT_ERR_UNSUPPORTED, "Pad takes one input before opset 11");
    if (c->opset >= 11 && c->opset < 18 && ot_in(c, 3))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input 'axes' needs opset 18");
    return ot_pad_resolve(c, c->attrs, c->opset < 11, c->in[0]->rank, c->in[0]->dims, begin, end);
}

ot_status ot_pad_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    const ot_tensor *v = ot_in(c, 2);
    int64_t begin[OT_MAX_RANK], end[OT_MAX_RANK], dims[OT_MAX_RANK];
    OT_TRY(ot_shape_check_movable(c, 0));
    if (v && c->opset >= 11) {
        if (v->dtype != x->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "constant_value has type %s, data has %s", ot_dtype_name(v->dtype),
                               ot_dtype_name(x->dtype));
        if (ot_tensor_numel(v) > 1) return ot_op_error(c, OT_ERR_SHAPE, "constant_value must be one element");
    }
    OT_TRY(ot_pad_params(c, begin, end));
    for (int k = 0; k < x->rank; k++) dims[k] = x->dims[k] + begin[k] + end[k];
    return ot_shape_set_out(c, 0, x->dtype, x->rank, dims);
}

/* The fill of constant mode as bytes of the data's type. */
static void ot_pad_value(const ot_kctx *c, unsigned char *value, size_t es) {
    const ot_pad_attrs *a = c->attrs;
    const ot_tensor *v = ot_in(c, 2);
    ot_dtype t = c->in[0]->dtype;
    memset(value, 0, 16);
    if (c->opset >= 11) {
        if (v && ot_tensor_numel(v) == 1) memcpy(value, v->data, es);
    } else if (t == OT_COMPLEX64) {
        float re = a->value;
        memcpy(value, &re, sizeof re);
    } else if (t == OT_COMPLEX128) {
        double re = a->value;
        memcpy(value, &re, sizeof re);
    } else {
        ot_store_f64(t, value, 0, a->value);
    }
}

ot_status ot_pad_cpu(ot_kctx *c) {
    const ot_pad_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    int r = x->rank;
    int64_t begin[OT_MAX_RANK], end[OT_MAX_RANK], xs[OT_MAX_RANK], kept[OT_MAX_RANK], at[OT_MAX_RANK], off = 0;
    size_t es = ot_dtype_size(x->dtype);
    _Alignas(16) unsigned char value[16];
    OT_TRY(ot_pad_params(c, begin, end));
    ot_pad_value(c, value, es);
    ot_shape_strides(r, x->dims, xs);
    for (int k = 0; k < r; k++) {
        int64_t crop_b = begin[k] < 0 ? -begin[k] : 0, crop_e = end[k] < 0 ? -end[k] : 0;
        off += crop_b * xs[k];
        kept[k] = x->dims[k] - crop_b - crop_e;
        at[k] = begin[k] > 0 ? begin[k] : 0;
    }
    /* Nothing of the input survives cropping: the source view is empty, so
       point it at the buffer start rather than past its end. */
    if (ot_shape_count(r, kept) == 0) off = 0;
    ot_k_pad(y->data, y->dims, (const char *)x->data + off * (int64_t)es, xs, kept, at, r, (ot_k_pad_mode)a->mode,
             value, es);
    return OT_OK;
}

/* ---- Trilu ---------------------------------------------------------------------- */

ot_status ot_trilu_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_trilu_attrs *a = attrs;
    (void)opset;
    OT_TRY(ot_attr_get_int(n, "upper", 1, &a->upper));
    if (a->upper != 0 && a->upper != 1)
        return ot_node_error(n, OT_ERR_PARSE, "upper must be 0 or 1, got %lld", (long long)a->upper);
    return OT_OK;
}

ot_status ot_trilu_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *k = ot_in(c, 1);
    OT_TRY(ot_shape_check_movable(c, 0));
    if (x->rank < 2) return ot_op_error(c, OT_ERR_SHAPE, "input must have rank >= 2, got %d", x->rank);
    if (k && (k->dtype != OT_INT64 || ot_tensor_numel(k) != 1 || k->rank > 1))
        return ot_op_error(c, OT_ERR_SHAPE, "'k' must be one int64 value");
    return ot_shape_set_out(c, 0, x->dtype, x->rank, x->dims);
}

ot_status ot_trilu_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *kt = ot_in(c, 1);
    int r = x->rank;
    int64_t k = kt ? *(const int64_t *)kt->data : 0;
    int64_t n = x->dims[r - 2], m = x->dims[r - 1];
    ot_k_trilu(c->out[0]->data, x->data, ot_shape_count(r - 2, x->dims), n, m, k,
               (int)((const ot_trilu_attrs *)c->attrs)->upper, ot_dtype_size(x->dtype));
    return OT_OK;
}
