/* Quantization family: QuantizeLinear, DequantizeLinear (10..25: axis,
 * blocked quantization, output_dtype, saturate, precision, float8/int4/
 * float4/int2 types, float8e8m0 scales), DynamicQuantizeLinear (11),
 * QLinearMatMul (10, 21) and QLinearConv (10).  MatMulInteger and
 * ConvInteger live with MatMul and Conv.  No gradient rules: fake-quant
 * training is a different op.  Kernels: kernels/cpu/quant.c. */
#include <string.h>

#include "conv_ops.h"
#include "families.h"
#include "kernels/cpu/quant.h"
#include "src/core/half.h"
#include "src/core/lowprec.h"
#include "src/runtime/workspace.h"

typedef struct quant_attrs {
    int64_t axis, saturate, block_size, output_dtype, precision;
} quant_attrs;

/* An attribute that exists from opset `since`. */
static ot_status attr_since(const ot_node *n, int64_t opset, const char *name, int since) {
    if (ot_node_attr(n, name) && opset < since)
        return ot_node_error(n, OT_ERR_PARSE, "attribute '%s' exists from opset %d (model opset %lld)", name, since,
                             (long long)opset);
    return OT_OK;
}

static ot_status quant_parse(const ot_node *n, int64_t opset, void *attrs) {
    quant_attrs *a = attrs;
    const bool q = !strcmp(n->op_type, "QuantizeLinear");
    OT_TRY(attr_since(n, opset, "axis", 13));
    OT_TRY(attr_since(n, opset, "block_size", 21));
    OT_TRY(attr_since(n, opset, "saturate", 19));
    OT_TRY(attr_since(n, opset, "output_dtype", q ? 21 : 23));
    OT_TRY(attr_since(n, opset, "precision", 23));
    if (!q && (ot_node_attr(n, "saturate") || ot_node_attr(n, "precision")))
        return ot_node_error(n, OT_ERR_PARSE, "DequantizeLinear has no 'saturate' or 'precision' attribute");
    OT_TRY(ot_attr_get_int(n, "axis", 1, &a->axis));
    OT_TRY(ot_attr_get_int(n, "saturate", 1, &a->saturate));
    OT_TRY(ot_attr_get_int(n, "block_size", 0, &a->block_size));
    OT_TRY(ot_attr_get_int(n, "output_dtype", 0, &a->output_dtype));
    OT_TRY(ot_attr_get_int(n, "precision", 0, &a->precision));
    if (a->saturate != 0 && a->saturate != 1)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "saturate must be 0 or 1, got %lld", (long long)a->saturate);
    if (a->block_size < 0)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "block_size must be >= 0, got %lld", (long long)a->block_size);
    if (a->precision && a->precision != OT_FLOAT && a->precision != OT_FLOAT16 && a->precision != OT_BFLOAT16 &&
        a->precision != OT_INT32)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "precision %s is not float, float16, bfloat16 or int32",
                             ot_dtype_name((ot_dtype)a->precision));
    return OT_OK;
}

/* Element types of the quantized side (QuantizeLinear's output,
   DequantizeLinear's input) by the opset that introduced them. */
static int quant_type_since(ot_dtype t) {
    switch ((int)t) {
    case OT_UINT8: case OT_INT8: return 10;
    case OT_FLOAT8E4M3FN: case OT_FLOAT8E4M3FNUZ: case OT_FLOAT8E5M2: case OT_FLOAT8E5M2FNUZ: return 19;
    case OT_UINT16: case OT_INT16: case OT_UINT4: case OT_INT4: return 21;
    case OT_FLOAT4E2M1: return 23;
    case OT_UINT2: case OT_INT2: return 25;
    default: return 0;
    }
}

/* Scale (input 1) and zero point (input 2) against x (input 0): fills the
   layout.  Per-tensor: one value; per-axis (13+): 1-D of x's axis length;
   blocked (21+): x's rank, ceil(dim / block_size) along the axis. */
static ot_status quant_layout(ot_kctx *c, ot_quant_layout *l) {
    const quant_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *s = ot_in(c, 1), *z = ot_in(c, 2);
    memset(l, 0, sizeof *l);
    l->per_tensor = ot_tensor_numel(s) == 1 && s->rank <= 1 && !a->block_size;
    int64_t axis = a->axis;
    if (!l->per_tensor || a->block_size) {
        if (axis < -x->rank || axis >= x->rank)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
        if (axis < 0) axis += x->rank;
    }
    l->outer = 1;
    l->inner = 1;
    l->axis_len = 1;
    if (!l->per_tensor) {
        for (int d = 0; d < x->rank; d++) {
            if (d < axis) l->outer *= x->dims[d];
            else if (d > axis) l->inner *= x->dims[d];
        }
        l->axis_len = x->dims[axis];
    }
    char sh[128], xs[128];
    ot_shape_str(s->rank, s->dims, sh, sizeof sh);
    ot_shape_str(x->rank, x->dims, xs, sizeof xs);
    if (a->block_size) {
        l->block = a->block_size;
        bool ok = s->rank == x->rank;
        for (int d = 0; ok && d < x->rank; d++)
            ok = s->dims[d] == (d == axis ? (x->dims[d] + l->block - 1) / l->block : x->dims[d]);
        if (!ok)
            return ot_op_error(c, OT_ERR_SHAPE,
                               "blocked quantization (block_size %lld, axis %lld): the scale %s must match x %s except "
                               "along the axis, where it has ceil(dim / block_size)",
                               (long long)l->block, (long long)axis, sh, xs);
    } else if (!l->per_tensor) {
        if (c->opset < 13)
            return ot_op_error(c, OT_ERR_SHAPE, "the scale must be a scalar before opset 13, got %s", sh);
        if (s->rank != 1 || s->dims[0] != l->axis_len)
            return ot_op_error(c, OT_ERR_SHAPE, "the scale %s must be a scalar or 1-D of x's axis %lld length %lld",
                               sh, (long long)axis, (long long)l->axis_len);
    }
    if (z && !ot_shape_equal(z->rank, z->dims, s->rank, s->dims) &&
        !(ot_tensor_numel(z) == 1 && ot_tensor_numel(s) == 1 && z->rank <= 1 && s->rank <= 1)) {
        char zs[128];
        ot_shape_str(z->rank, z->dims, zs, sizeof zs);
        return ot_op_error(c, OT_ERR_SHAPE, "the zero point %s must have the scale's shape %s", zs, sh);
    }
    return OT_OK;
}

static bool is_xfloat(ot_dtype t) { return t == OT_FLOAT || t == OT_FLOAT16 || t == OT_BFLOAT16; }

static ot_status check_scale_type(ot_kctx *c, ot_dtype xt, bool dequant) {
    const ot_dtype st = ot_in(c, 1)->dtype;
    const bool e8m0 = (int)st == OT_FLOAT8E8M0;
    if (c->opset < 19 ? st != OT_FLOAT : !(is_xfloat(st) || (e8m0 && c->opset >= 24) ||
                                          (!dequant && st == OT_INT32 && c->opset >= 23)))
        return ot_op_error(c, OT_ERR_TYPE, "scale type %s is not allowed at opset %lld", ot_dtype_name(st),
                           (long long)c->opset);
    if (!dequant && c->opset >= 19 && c->opset < 23 && st != xt)
        return ot_op_error(c, OT_ERR_TYPE, "scale type %s must be x's type %s before opset 23", ot_dtype_name(st),
                           ot_dtype_name(xt));
    return OT_OK;
}

static ot_status quantize_infer(ot_kctx *c) {
    const quant_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *z = ot_in(c, 2);
    if (!(x->dtype == OT_FLOAT || x->dtype == OT_INT32 || (c->opset >= 19 && is_xfloat(x->dtype))))
        return ot_op_error(c, OT_ERR_TYPE, "x type %s is not allowed at opset %lld", ot_dtype_name(x->dtype),
                           (long long)c->opset);
    OT_TRY(check_scale_type(c, x->dtype, false));
    ot_dtype yt = a->output_dtype ? (ot_dtype)a->output_dtype : z ? z->dtype : OT_UINT8;
    if (z && a->output_dtype && z->dtype != yt)
        return ot_op_error(c, OT_ERR_TYPE, "output_dtype %s differs from the zero point's type %s", ot_dtype_name(yt),
                           ot_dtype_name(z->dtype));
    int since = quant_type_since(yt);
    if (!since || since > c->opset)
        return ot_op_error(c, OT_ERR_TYPE, "cannot quantize to %s at opset %lld", ot_dtype_name(yt),
                           (long long)c->opset);
    ot_quant_layout l;
    OT_TRY(quant_layout(c, &l));
    ot_set_out(c, 0, yt, x->rank, x->dims);
    return OT_OK;
}

/* The type x / scale is rounded to: `precision`, else the scale's type
   (the spec's rule; a float8e8m0 scale divides in float32, an int32 one in
   float64). */
static ot_dtype quantize_precision(const ot_kctx *c) {
    const quant_attrs *a = c->attrs;
    const ot_dtype st = ot_in(c, 1)->dtype;
    if (a->precision) return a->precision == OT_INT32 ? OT_DOUBLE : (ot_dtype)a->precision;
    return is_xfloat(st) ? st : st == OT_INT32 ? OT_DOUBLE : OT_FLOAT;
}

static ot_status quantize_cpu(ot_kctx *c) {
    const quant_attrs *a = c->attrs;
    ot_quant_layout l;
    OT_TRY(quant_layout(c, &l));
    return ot_cpu_quantize(c->in[0], c->in[1], ot_in(c, 2), &l, quantize_precision(c), a->saturate != 0, c->out[0]);
}

static ot_status dequantize_infer(ot_kctx *c) {
    const quant_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *s = ot_in(c, 1), *z = ot_in(c, 2);
    int since = x->dtype == OT_INT32 ? 10 : quant_type_since(x->dtype);
    if (!since || since > c->opset)
        return ot_op_error(c, OT_ERR_TYPE, "cannot dequantize %s at opset %lld", ot_dtype_name(x->dtype),
                           (long long)c->opset);
    OT_TRY(check_scale_type(c, x->dtype, true));
    if (z && z->dtype != x->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "the zero point's type %s differs from x's %s", ot_dtype_name(z->dtype),
                           ot_dtype_name(x->dtype));
    if (z && ot_dtype_is_lowprec_float(x->dtype) && z->data) { /* known: check now; else the kernel ignores it */
        for (int64_t i = 0; i < ot_tensor_numel(z); i++)
            if (((const uint8_t *)z->data)[i] && (int)x->dtype != OT_FLOAT4E2M1)
                return ot_op_error(c, OT_ERR_INVALID_ARG, "a %s zero point must be zero", ot_dtype_name(x->dtype));
    }
    ot_dtype yt = a->output_dtype ? (ot_dtype)a->output_dtype : s->dtype;
    if (!is_xfloat(yt))
        return ot_op_error(c, OT_ERR_TYPE, "output type %s is not float, float16 or bfloat16%s", ot_dtype_name(yt),
                           a->output_dtype ? "" : " (set output_dtype)");
    ot_quant_layout l;
    OT_TRY(quant_layout(c, &l));
    ot_set_out(c, 0, yt, x->rank, x->dims);
    return OT_OK;
}

static ot_status dequantize_cpu(ot_kctx *c) {
    ot_quant_layout l;
    OT_TRY(quant_layout(c, &l));
    return ot_cpu_dequantize(c->in[0], c->in[1], ot_in(c, 2), &l, c->out[0]);
}

/* ---- DynamicQuantizeLinear ----------------------------------------------------------- */

static ot_status dynq_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    if (x->dtype != OT_FLOAT)
        return ot_op_error(c, OT_ERR_TYPE, "x must be float32, got %s", ot_dtype_name(x->dtype));
    ot_set_out(c, 0, OT_UINT8, x->rank, x->dims);
    ot_set_out(c, 1, OT_FLOAT, 0, NULL);
    ot_set_out(c, 2, OT_UINT8, 0, NULL);
    return OT_OK;
}

static ot_status dynq_cpu(ot_kctx *c) {
    ot_tensor *scale = ot_out(c, 1), *zp = ot_out(c, 2);
    float sbuf;
    uint8_t zbuf;
    ot_tensor ts = {.dtype = OT_FLOAT, .data = &sbuf}, tz = {.dtype = OT_UINT8, .data = &zbuf};
    ot_cpu_dynamic_quantize(c->in[0], c->out[0], scale ? scale : &ts, zp ? zp : &tz);
    return OT_OK;
}

/* ---- QLinearMatMul, QLinearConv -------------------------------------------------------- */

static const ot_dtype q8[] = {OT_INT8, OT_UINT8, OT_UNDEFINED};

/* A scale (float; float16/bfloat16 from opset 21) or 8-bit zero point of
   `want` values (1, or per channel when `per` > 1). */
static ot_status check_qparam(ot_kctx *c, int i, const char *what, bool scale, int64_t per) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return OT_OK;
    if (scale && !(t->dtype == OT_FLOAT || (c->opset >= 21 && is_xfloat(t->dtype))))
        return ot_op_error(c, OT_ERR_TYPE, "%s must be float%s, got %s", what, c->opset >= 21 ? "/float16/bfloat16" : "",
                           ot_dtype_name(t->dtype));
    if (!scale) OT_TRY(ot_check_dtype(c, i, q8));
    int64_t n = ot_tensor_numel(t);
    if (!((n == 1 && t->rank <= 1) || (per > 1 && t->rank == 1 && n == per)))
        return ot_op_error(c, OT_ERR_SHAPE, "%s must be a scalar%s, got %lld values", what,
                           per > 1 ? " or one value per output channel" : "", (long long)n);
    return OT_OK;
}

static ot_status qlmm_shapes(ot_kctx *c, int64_t *batch, int64_t *ba, int64_t *bb, int64_t *M, int64_t *K,
                             int64_t *N, int *rank, int64_t *dims) {
    const ot_tensor *a = ot_in(c, 0), *b = ot_in(c, 3);
    if (a->rank < 2 || b->rank < 2)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "a and b must have rank >= 2 (1-D operands are not supported)");
    *M = a->dims[a->rank - 2];
    *K = a->dims[a->rank - 1];
    *N = b->dims[b->rank - 1];
    if (b->dims[b->rank - 2] != *K)
        return ot_op_error(c, OT_ERR_SHAPE, "a's last dim %lld differs from b's rows %lld", (long long)*K,
                           (long long)b->dims[b->rank - 2]);
    *rank = a->rank > b->rank ? a->rank : b->rank;
    *batch = *ba = *bb = 1;
    for (int d = 0; d < *rank - 2; d++) {
        int ia = d - (*rank - a->rank), ib = d - (*rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ot_op_error(c, OT_ERR_SHAPE, "batch dims %lld and %lld do not broadcast", (long long)da, (long long)db);
        dims[d] = da > db ? da : db;
        *batch *= dims[d];
        *ba *= da;
        *bb *= db;
    }
    if ((*ba != 1 && *ba != *batch) || (*bb != 1 && *bb != *batch))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "partially broadcast batch dims are not supported");
    dims[*rank - 2] = *M;
    dims[*rank - 1] = *N;
    return OT_OK;
}

static ot_status qlmm_infer(ot_kctx *c) {
    for (int i = 0; i < 8; i += 3)
        if (ot_in(c, i) && ot_dtype_is_lowprec_float(ot_in(c, i)->dtype))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "float8 QLinearMatMul (opset 21) is not supported");
    OT_TRY(ot_check_dtype(c, 0, q8));
    OT_TRY(ot_check_dtype(c, 3, q8));
    int64_t batch, ba, bb, M, K, N, dims[OT_MAX_RANK];
    int rank;
    OT_TRY(qlmm_shapes(c, &batch, &ba, &bb, &M, &K, &N, &rank, dims));
    OT_TRY(check_qparam(c, 1, "a_scale", true, 1));
    OT_TRY(check_qparam(c, 2, "a_zero_point", false, 1));
    OT_TRY(check_qparam(c, 4, "b_scale", true, N));
    OT_TRY(check_qparam(c, 5, "b_zero_point", false, N));
    OT_TRY(check_qparam(c, 6, "y_scale", true, 1));
    OT_TRY(check_qparam(c, 7, "y_zero_point", false, 1));
    if (ot_in(c, 2) && ot_in(c, 2)->dtype != ot_in(c, 0)->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "a_zero_point's type differs from a's");
    if (ot_in(c, 5) && ot_in(c, 5)->dtype != ot_in(c, 3)->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "b_zero_point's type differs from b's");
    ot_set_out(c, 0, ot_in(c, 7) ? ot_in(c, 7)->dtype : ot_in(c, 0)->dtype, rank, dims);
    return OT_OK;
}

/* scale_a * scale_b / scale_y in the scales' own type (numpy's float32 or
   float16 arithmetic), as one multiplier per output channel. */
static double qmul(ot_dtype t, double sa, double sb, double sy) {
    if (t == OT_FLOAT16) {
        float p = ot_f16_to_f32(ot_f32_to_f16((float)(sa * sb)));
        return ot_f16_to_f32(ot_f32_to_f16(p / (float)sy));
    }
    if (t == OT_BFLOAT16) {
        float p = ot_bf16_to_f32(ot_f32_to_bf16((float)(sa * sb)));
        return ot_bf16_to_f32(ot_f32_to_bf16(p / (float)sy));
    }
    float p = (float)sa * (float)sb;
    return p / (float)sy;
}

static double ld(const ot_tensor *t, int64_t i) { return t ? ot_load_f64(t->dtype, t->data, i) : 0.0; }

static ot_status requant(ot_kctx *c, int ia, int ib, int iy, int64_t n_ch, int64_t inner, const int32_t *acc) {
    const ot_tensor *sa = c->in[ia], *sb = c->in[ib], *sy = c->in[iy], *zy = ot_in(c, iy + 1);
    double *mul = ot_workspace_alloc(sizeof(double) * (size_t)n_ch);
    if (!mul) return ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    const int64_t nb = ot_tensor_numel(sb);
    for (int64_t m = 0; m < n_ch; m++) mul[m] = qmul(sa->dtype, ld(sa, 0), ld(sb, nb == 1 ? 0 : m), ld(sy, 0));
    ot_cpu_requantize(acc, mul, nb == 1 ? 1 : n_ch, inner, ld(zy, 0), c->out[0]);
    ot_workspace_free(mul);
    return OT_OK;
}

static ot_status qlmm_cpu(ot_kctx *c) {
    int64_t batch, ba, bb, M, K, N, dims[OT_MAX_RANK];
    int rank;
    OT_TRY(qlmm_shapes(c, &batch, &ba, &bb, &M, &K, &N, &rank, dims));
    const ot_tensor *bz = ot_in(c, 5);
    const int64_t nbz = bz ? ot_tensor_numel(bz) : 1;
    int64_t *bzv = ot_workspace_alloc(sizeof(int64_t) * (size_t)nbz);
    const int64_t n_acc = batch * M * N;
    int32_t *acc = ot_workspace_alloc(sizeof(int32_t) * (size_t)(n_acc > 0 ? n_acc : 1));
    ot_status s = bzv && acc ? OT_OK : ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    if (!s) {
        for (int64_t i = 0; i < nbz; i++) bzv[i] = bz ? ot_load_i64(bz->dtype, bz->data, i) : 0;
        const ot_tensor *az = ot_in(c, 2);
        ot_cpu_qmatmul_acc(c->in[0], az ? ot_load_i64(az->dtype, az->data, 0) : 0, c->in[3], bzv, nbz, batch, ba, bb, M,
                           K, N, acc);
        s = requant(c, 1, 4, 6, N, 1, acc);
    }
    ot_workspace_free(acc);
    ot_workspace_free(bzv);
    return s;
}

/* QLinearConv runs ConvInteger's definition on (x, w, x_zero_point,
   w_zero_point) for the int32 sums, then adds B and requantizes. */
typedef struct qconv_attrs {
    conv_attrs conv;
} qconv_attrs;

static ot_status qconv_run(ot_kctx *c, bool infer) {
    const ot_op_def *ci = ot_op_find("", "ConvInteger");
    if (!ci || ci->attrs_size != sizeof(conv_attrs))
        return ot_op_error(c, OT_ERR_INTERNAL, "ConvInteger is not registered as expected");
    ot_node n = *c->node;
    n.op_type = (char *)"ConvInteger"; /* ConvInteger's checks key on the op type */
    ot_tensor *in[4] = {c->in[0], c->in[3], c->in[2], c->in[5]};
    ot_tensor *acc;
    OT_TRY(ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &acc));
    ot_kctx k = *c;
    k.node = &n;
    k.n_in = 4;
    k.in = in;
    k.n_out = 1;
    k.out = &acc;
    k.attrs = &((const qconv_attrs *)c->attrs)->conv;
    ot_status s = ci->infer(&k);
    const int64_t M = acc->rank > 1 ? acc->dims[1] : 1;
    if (!s && infer) {
        const ot_tensor *b = ot_in(c, 8);
        s = check_qparam(c, 1, "x_scale", true, 1);
        if (!s) s = check_qparam(c, 4, "w_scale", true, M);
        if (!s) s = check_qparam(c, 6, "y_scale", true, 1);
        if (!s) s = check_qparam(c, 7, "y_zero_point", false, 1);
        if (!s && b && (b->dtype != OT_INT32 || b->rank != 1 || b->dims[0] != M))
            s = ot_op_error(c, OT_ERR_SHAPE, "B must be int32 of shape (%lld)", (long long)M);
        if (!s)
            ot_set_out(c, 0, ot_in(c, 7) ? ot_in(c, 7)->dtype : c->in[0]->dtype, acc->rank, acc->dims);
    } else if (!s) {
        s = ot_tensor_alloc_data(acc);
        if (!s) s = ci->cpu(&k);
        const ot_tensor *b = ot_in(c, 8);
        const int64_t nm = acc->dims[0] * M, inner = nm > 0 ? ot_tensor_numel(acc) / nm : 1;
        int32_t *ad = acc->data;
        if (!s && b)
            for (int64_t i = 0; i < ot_tensor_numel(acc); i++) ad[i] += ((const int32_t *)b->data)[(i / inner) % M];
        if (!s) s = requant(c, 1, 4, 6, M, inner, ad);
    }
    ot_tensor_free(acc);
    return s;
}

static ot_status qconv_parse(const ot_node *n, int64_t opset, void *attrs) {
    const ot_op_def *ci = ot_op_find("", "ConvInteger");
    if (!ci || !ci->parse || ci->attrs_size != sizeof(conv_attrs))
        return ot_node_error(n, OT_ERR_INTERNAL, "ConvInteger is not registered as expected");
    return ci->parse(n, opset, &((qconv_attrs *)attrs)->conv);
}
static ot_status qconv_infer(ot_kctx *c) { return qconv_run(c, true); }
static ot_status qconv_cpu(ot_kctx *c) { return qconv_run(c, false); }

#define QROW(nm, lo, hi, nin0, nin1, nout0, nout1, attrs, size, parse_fn, infer_fn, cpu_fn, dt)                  \
    {.name = nm, .domain = "", .min_opset = lo, .max_opset = hi, .min_inputs = nin0, .max_inputs = nin1,       \
     .min_outputs = nout0, .max_outputs = nout1, .attr_names = attrs, .attrs_size = size, .parse = parse_fn,   \
     .infer = infer_fn, .cpu = cpu_fn, .dtypes = dt}

const ot_op_def ot_ops_quant[] = {
    QROW("QuantizeLinear", 10, 25, 2, 3, 1, 1, "axis,saturate,block_size,output_dtype,precision", sizeof(quant_attrs),
         quant_parse, quantize_infer, quantize_cpu,
         "float, float16, bfloat16, int32 -> int8/16, uint8/16, int4, uint4, int2, uint2, float8 types, float4e2m1"),
    QROW("DequantizeLinear", 10, 25, 2, 3, 1, 1, "axis,block_size,output_dtype", sizeof(quant_attrs), quant_parse,
         dequantize_infer, dequantize_cpu,
         "int8/16/32, uint8/16, int4, uint4, int2, uint2, float8 types, float4e2m1 -> float, float16, bfloat16"),
    QROW("DynamicQuantizeLinear", 11, 23, 1, 1, 3, 3, "", 0, NULL, dynq_infer, dynq_cpu, "float -> uint8"),
    QROW("QLinearMatMul", 10, 23, 8, 8, 1, 1, "", 0, NULL, qlmm_infer, qlmm_cpu,
         "int8, uint8 (float8 types unsupported); scales float, float16, bfloat16 from 21"),
    QROW("QLinearConv", 10, 23, 8, 9, 1, 1, "auto_pad,dilations,group,kernel_shape,pads,strides", sizeof(qconv_attrs),
         qconv_parse, qconv_infer, qconv_cpu, "int8, uint8, bias int32"),
};
const int ot_ops_quant_count = sizeof(ot_ops_quant) / sizeof(ot_ops_quant[0]);
