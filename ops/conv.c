/* Op family: conv — Conv and ConvTranspose (1-D, 2-D, 3-D and up to
 * OT_WINDOW_MAX_DIMS spatial dims).  Output sizes follow ONNX exactly:
 * Conv through kernels/cpu/window.h (shared with pooling), ConvTranspose by
 * the formulas of its spec (see convt_geometry).  Kernels: kernels/cpu/conv.c.
 * Gradient rules and the ai.onnxtrain ConvGradInput / ConvGradWeight ops
 * (rows at the end of the table): ops/conv_grad.c. */
#include <string.h>

#include "conv_ops.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/window.h"
#include "src/core/alloc.h"
#include "src/runtime/workspace.h"

#define MAXD OT_WINDOW_MAX_DIMS

static ot_status get_list(const ot_node *n, const char *name, int cap, int64_t *dst, int *count) {
    const int64_t *v;
    OT_TRY(ot_attr_get_ints(n, name, &v, count));
    if (*count > cap)
        return ot_error(OT_ERR_UNSUPPORTED, "%s node '%s': attribute %s has %d values (at most %d spatial dims supported)",
                        n->op_type, n->name ? n->name : "", name, *count, MAXD);
    for (int i = 0; i < *count; i++) dst[i] = v[i];
    return OT_OK;
}

static ot_status conv_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    conv_attrs *a = out;
    const char *ap;
    OT_TRY(ot_attr_get_string(n, "auto_pad", "NOTSET", &ap));
    ot_status s = ot_auto_pad_parse(ap, &a->auto_pad);
    if (s != OT_OK) return ot_error_context(s, "%s node '%s'", n->op_type, n->name ? n->name : "");
    OT_TRY(ot_attr_get_int(n, "group", 1, &a->group));
    OT_TRY(get_list(n, "kernel_shape", MAXD, a->kernel, &a->n_kernel));
    OT_TRY(get_list(n, "strides", MAXD, a->strides, &a->n_strides));
    OT_TRY(get_list(n, "dilations", MAXD, a->dilations, &a->n_dilations));
    OT_TRY(get_list(n, "pads", 2 * MAXD, a->pads, &a->n_pads));
    a->n_out_pad = a->n_out_shape = -1;
    if (!strcmp(n->op_type, "ConvTranspose")) {
        OT_TRY(get_list(n, "output_padding", MAXD, a->out_pad, &a->n_out_pad));
        OT_TRY(get_list(n, "output_shape", MAXD + 2, a->out_shape, &a->n_out_shape));
    }
    return OT_OK;
}

static const ot_dtype conv_types[] = {OT_FLOAT16, OT_BFLOAT16, OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};
static const ot_dtype q8_types[] = {OT_INT8, OT_UINT8, OT_UNDEFINED};

static bool is_conv_integer(const ot_kctx *c) { return c->node && !strcmp(c->node->op_type, "ConvInteger"); }

/* Shared checks of X, W, B and the per-dim attribute lengths.  transpose:
   W is (C, M/G, k...) instead of (M, C/G, k...).  *M receives the output
   channel count. */
static ot_status conv_common(ot_kctx *c, bool transpose, int *nsp, int64_t *M) {
    const conv_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *w = ot_in(c, 1), *b = ot_in(c, 2);
    bool integer = is_conv_integer(c);
    if (integer) { /* ConvInteger: x, w 8-bit (types may differ), inputs 2, 3 their zero points */
        OT_TRY(ot_check_dtype(c, 0, q8_types));
        OT_TRY(ot_check_dtype(c, 1, q8_types));
        b = NULL;
    } else {
        OT_TRY(ot_check_dtype(c, 0, conv_types));
    }
    for (int i = 1; i < 3 + integer; i++) {
        /* ConvInteger's zero points (inputs 2, 3) match x and w (inputs 0, 1);
           its input 1 is checked above. */
        if (integer && i < 2) continue;
        const ot_tensor *t = ot_in(c, i), *ref = integer ? ot_in(c, i - 2) : x;
        if (t && t->dtype != ref->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "input %d has type %s, expected %s", i, ot_dtype_name(t->dtype),
                               ot_dtype_name(ref->dtype));
    }
    if (x->rank < 3 || x->rank > MAXD + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "X must have rank 3 to %d (N, C, spatial...), got rank %d", MAXD + 2,
                           x->rank);
    if (w->rank != x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "W has rank %d, X has rank %d", w->rank, x->rank);
    int n = x->rank - 2;
    *nsp = n;
    int64_t G = a->group, C = x->dims[1];
    if (G < 1) return ot_op_error(c, OT_ERR_SHAPE, "group must be >= 1 (got %lld)", (long long)G);
    if (C % G) return ot_op_error(c, OT_ERR_SHAPE, "input channels %lld are not divisible by group %lld", (long long)C,
                                  (long long)G);
    if (!transpose) {
        *M = w->dims[0];
        if (w->dims[1] * G != C)
            return ot_op_error(c, OT_ERR_SHAPE, "W has %lld input channels per group, X has %lld channels and group %lld",
                               (long long)w->dims[1], (long long)C, (long long)G);
        if (*M % G)
            return ot_op_error(c, OT_ERR_SHAPE, "output channels %lld are not divisible by group %lld", (long long)*M,
                               (long long)G);
    } else {
        if (w->dims[0] != C)
            return ot_op_error(c, OT_ERR_SHAPE, "W has %lld input channels, X has %lld", (long long)w->dims[0],
                               (long long)C);
        *M = w->dims[1] * G;
    }
    if (b && (b->rank != 1 || b->dims[0] != *M))
        return ot_op_error(c, OT_ERR_SHAPE, "B must be 1-D of size %lld (the output channels)", (long long)*M);
    if (a->n_kernel >= 0) {
        bool ok = a->n_kernel == n;
        for (int i = 0; ok && i < n; i++) ok = a->kernel[i] == w->dims[2 + i];
        if (!ok) return ot_op_error(c, OT_ERR_SHAPE, "kernel_shape does not match W's spatial dims");
    }
    if ((a->n_strides >= 0 && a->n_strides != n) || (a->n_dilations >= 0 && a->n_dilations != n) ||
        (a->n_pads >= 0 && a->n_pads != 2 * n) || (a->n_out_pad >= 0 && a->n_out_pad != n))
        return ot_op_error(c, OT_ERR_SHAPE, "strides/dilations/output_padding need %d values and pads %d", n, 2 * n);
    for (int i = 0; i < n; i++)
        if (w->dims[2 + i] < 1) return ot_op_error(c, OT_ERR_SHAPE, "W has an empty kernel dim");
    return OT_OK;
}

/* Conv: geometry through the shared window helper; image = X, cols = Y. */
static ot_status conv_geometry(ot_kctx *c, ot_conv_geom *g, int64_t *M) {
    const conv_attrs *a = c->attrs;
    int n;
    OT_TRY(conv_common(c, false, &n, M));
    const ot_tensor *x = ot_in(c, 0), *w = ot_in(c, 1);
    ot_window win;
    ot_status s = ot_window_compute(&win, n, x->dims + 2, w->dims + 2, a->n_strides >= 0 ? a->strides : NULL,
                                    a->n_dilations >= 0 ? a->dilations : NULL, a->n_pads >= 0 ? a->pads : NULL,
                                    a->auto_pad, false);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    memset(g, 0, sizeof *g);
    g->n = n;
    for (int i = 0; i < n; i++) {
        g->img[i] = x->dims[2 + i];
        g->col[i] = win.out[i];
        g->kernel[i] = win.kernel[i];
        g->stride[i] = win.stride[i];
        g->dilation[i] = win.dilation[i];
        g->pad[i] = win.pad_begin[i];
    }
    ot_conv_geom_finish(g);
    int64_t G = a->group, K = x->dims[1] / G * g->kernel_size;
    if (!ot_blas_fits(*M) || !ot_blas_fits(g->col_size) || !ot_blas_fits(K))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "convolution too large for 32-bit BLAS dims");
    return OT_OK;
}

static int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

/* ConvTranspose (spec formulas):
 *   full = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1
 *   pads given (NOTSET): out = full - pad_begin - pad_end
 *   output_shape given, or SAME_* (then output_shape = in * stride):
 *     total = full - out; SAME_UPPER: begin = floor(total / 2), else
 *     begin = total - floor(total / 2) (the reference's integer division);
 *     begin may be negative when out exceeds full
 *   VALID: no pads, out = full.
 * Image = Y, cols = X. */
static ot_status convt_geometry(ot_kctx *c, ot_conv_geom *g, int64_t *M) {
    const conv_attrs *a = c->attrs;
    int n;
    OT_TRY(conv_common(c, true, &n, M));
    const ot_tensor *x = ot_in(c, 0), *w = ot_in(c, 1);
    if (a->n_out_shape >= 0 && a->n_out_shape != n && a->n_out_shape != n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "output_shape needs %d values (spatial dims), got %d", n, a->n_out_shape);
    const int64_t *oshape = a->n_out_shape == n + 2 ? a->out_shape + 2 : a->out_shape;
    memset(g, 0, sizeof *g);
    g->n = n;
    for (int i = 0; i < n; i++) {
        int64_t in = x->dims[2 + i], k = w->dims[2 + i];
        int64_t s = a->n_strides >= 0 ? a->strides[i] : 1, d = a->n_dilations >= 0 ? a->dilations[i] : 1;
        int64_t op = a->n_out_pad >= 0 ? a->out_pad[i] : 0;
        if (s < 1 || d < 1 || s > ((int64_t)1 << 30) || d > ((int64_t)1 << 30) || k > ((int64_t)1 << 30) ||
            in > ((int64_t)1 << 32))
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: strides and dilations must be >= 1 (got %lld, %lld)", i,
                               (long long)s, (long long)d);
        if (op < 0 || (op >= s && op >= d))
            return ot_op_error(c, OT_ERR_SHAPE, "output_padding[%d] = %lld must be >= 0 and less than the stride or the dilation",
                               i, (long long)op);
        int64_t full = s * (in - 1) + op + (k - 1) * d + 1, out, pb;
        if (in == 0) full = 0;
        if (a->n_out_shape >= 0 || a->auto_pad == OT_AUTO_PAD_SAME_UPPER || a->auto_pad == OT_AUTO_PAD_SAME_LOWER) {
            out = a->n_out_shape >= 0 ? oshape[i] : in * s;
            int64_t total = full - out;
            pb = a->auto_pad == OT_AUTO_PAD_SAME_UPPER ? floor_div2(total) : total - floor_div2(total);
        } else if (a->auto_pad == OT_AUTO_PAD_VALID || a->n_pads < 0) {
            out = full;
            pb = 0;
        } else {
            pb = a->pads[i];
            int64_t pe = a->pads[n + i];
            if (pb < 0 || pe < 0) return ot_op_error(c, OT_ERR_SHAPE, "pads must be >= 0");
            out = full - pb - pe;
        }
        if (out < 0 || out > ((int64_t)1 << 40))
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: output size %lld is invalid", i, (long long)out);
        g->img[i] = out;
        g->col[i] = in;
        g->kernel[i] = k;
        g->stride[i] = s;
        g->dilation[i] = d;
        g->pad[i] = pb;
    }
    ot_conv_geom_finish(g);
    int64_t R = *M / a->group * g->kernel_size;
    if (!ot_blas_fits(R) || !ot_blas_fits(g->col_size) || !ot_blas_fits(g->img_size) || !ot_blas_fits(x->dims[1]))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "transposed convolution too large for 32-bit BLAS dims");
    return OT_OK;
}

ot_status ot_conv_op_geometry(ot_kctx *c, bool transpose, ot_conv_geom *g, int64_t *M) {
    return transpose ? convt_geometry(c, g, M) : conv_geometry(c, g, M);
}

static ot_status set_output(ot_kctx *c, const ot_conv_geom *g, int64_t M, bool transpose, ot_dtype dt) {
    const ot_tensor *x = ot_in(c, 0);
    int64_t dims[OT_MAX_RANK], numel;
    dims[0] = x->dims[0];
    dims[1] = M;
    for (int i = 0; i < g->n; i++) dims[2 + i] = transpose ? g->img[i] : g->col[i];
    OT_TRY(ot_shape_numel(g->n + 2, dims, &numel));
    ot_set_out(c, 0, dt, g->n + 2, dims);
    return OT_OK;
}

static ot_status conv_infer(ot_kctx *c) {
    ot_conv_geom g;
    int64_t M;
    OT_TRY(conv_geometry(c, &g, &M));
    return set_output(c, &g, M, false, ot_in(c, 0)->dtype);
}

static ot_status convt_infer(ot_kctx *c) {
    ot_conv_geom g;
    int64_t M;
    OT_TRY(convt_geometry(c, &g, &M));
    return set_output(c, &g, M, true, ot_in(c, 0)->dtype);
}

/* Runs the float32/float64 kernel; float16/bfloat16 go through float32 copies. */
static ot_status conv_run(ot_kctx *c, bool transpose) {
    const conv_attrs *a = c->attrs;
    ot_conv_geom g;
    int64_t M;
    OT_TRY(transpose ? convt_geometry(c, &g, &M) : conv_geometry(c, &g, &M));
    const ot_tensor *x = ot_in(c, 0), *w = ot_in(c, 1), *b = ot_in(c, 2);
    ot_tensor *y = ot_out(c, 0);
    int64_t N = x->dims[0], C = x->dims[1];
    ot_dtype dt = x->dtype;
    ot_status (*fn)(ot_dtype, const ot_conv_geom *, int64_t, int64_t, int64_t, int64_t, const void *, const void *,
                    const void *, void *) = transpose ? ot_conv_transpose_forward : ot_conv_forward;
    if (ot_tensor_numel(y) == 0) return OT_OK;
    ot_status s;
    if (dt == OT_FLOAT || dt == OT_DOUBLE) {
        s = fn(dt, &g, N, C, M, a->group, x->data, w->data, b ? b->data : NULL, y->data);
    } else {
        const ot_tensor *src[3] = {x, w, b};
        float *f[4] = {0};
        bool ok = true;
        for (int i = 0; i < 3; i++)
            if (src[i]) {
                int64_t n = ot_tensor_numel(src[i]);
                f[i] = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
                if (f[i]) ot_half_to_f32(dt, src[i]->data, f[i], n);
                ok &= f[i] != NULL;
            }
        f[3] = ot_workspace_alloc((size_t)ot_tensor_numel(y) * sizeof(float));
        ok &= f[3] != NULL;
        s = ok ? fn(OT_FLOAT, &g, N, C, M, a->group, f[0], f[1], f[2], f[3])
               : ot_error(OT_ERR_NOMEM, "out of memory for float32 copies");
        if (s == OT_OK) ot_f32_to_half(dt, f[3], y->data, ot_tensor_numel(y));
        for (int i = 0; i < 4; i++) ot_workspace_free(f[i]);
    }
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    return OT_OK;
}

static ot_status conv_cpu(ot_kctx *c) { return conv_run(c, false); }

/* ConvInteger: x_zero_point is a scalar, w_zero_point a scalar or one value
   per output channel. */
static ot_status convi_zero_points(ot_kctx *c, int64_t M) {
    const ot_tensor *xz = ot_in(c, 2), *wz = ot_in(c, 3);
    if (xz && ot_tensor_numel(xz) != 1) return ot_op_error(c, OT_ERR_SHAPE, "x_zero_point must be a scalar");
    if (wz && ot_tensor_numel(wz) != 1 && (wz->rank != 1 || wz->dims[0] != M))
        return ot_op_error(c, OT_ERR_SHAPE, "w_zero_point must be a scalar or have one value per output channel (%lld)",
                           (long long)M);
    return OT_OK;
}

static ot_status convi_infer(ot_kctx *c) {
    ot_conv_geom g;
    int64_t M;
    OT_TRY(conv_geometry(c, &g, &M));
    OT_TRY(convi_zero_points(c, M));
    return set_output(c, &g, M, false, OT_INT32);
}

/* Exact through the float64 convolution: 8-bit products summed stay far
   below 2^53. */
static ot_status convi_cpu(ot_kctx *c) {
    ot_conv_geom g;
    int64_t M;
    OT_TRY(conv_geometry(c, &g, &M));
    const ot_tensor *x = ot_in(c, 0), *w = ot_in(c, 1), *xz = ot_in(c, 2), *wz = ot_in(c, 3);
    ot_tensor *y = ot_out(c, 0);
    int64_t n[3] = {ot_tensor_numel(x), ot_tensor_numel(w), ot_tensor_numel(y)}, per_m = n[1] / (M ? M : 1);
    double *d[3];
    for (int i = 0; i < 3; i++) d[i] = ot_workspace_alloc((size_t)(n[i] ? n[i] : 1) * sizeof(double));
    ot_status s = d[0] && d[1] && d[2] ? OT_OK : ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    if (s == OT_OK) {
        int64_t xzv = xz ? ot_load_i64(xz->dtype, xz->data, 0) : 0;
        for (int64_t i = 0; i < n[0]; i++) d[0][i] = (double)(ot_load_i64(x->dtype, x->data, i) - xzv);
        for (int64_t i = 0; i < n[1]; i++) {
            int64_t zv = !wz ? 0 : ot_tensor_numel(wz) == 1 ? ot_load_i64(wz->dtype, wz->data, 0)
                                                            : ot_load_i64(wz->dtype, wz->data, i / per_m);
            d[1][i] = (double)(ot_load_i64(w->dtype, w->data, i) - zv);
        }
        s = ot_conv_forward(OT_DOUBLE, &g, x->dims[0], x->dims[1], M, ((const conv_attrs *)c->attrs)->group, d[0],
                            d[1], NULL, d[2]);
    }
    if (s == OT_OK)
        for (int64_t i = 0; i < n[2]; i++) ((int32_t *)y->data)[i] = (int32_t)(int64_t)d[2][i];
    for (int i = 0; i < 3; i++) ot_workspace_free(d[i]);
    return s;
}
static ot_status convt_cpu(ot_kctx *c) { return conv_run(c, true); }

#define CONV_ATTRS "auto_pad,dilations,group,kernel_shape,pads,strides"
const ot_op_def ot_ops_conv[] = {
    {.name = "Conv", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 2, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = CONV_ATTRS, .attrs_size = sizeof(conv_attrs),
     .parse = conv_parse, .infer = conv_infer, .cpu = conv_cpu, .dtypes = "float16, bfloat16, float, double",
     .grad = ot_conv_grad},
    {.name = "ConvInteger", .domain = "", .min_opset = 10, .max_opset = 23, .min_inputs = 2, .max_inputs = 4,
     .min_outputs = 1, .max_outputs = 1, .attr_names = CONV_ATTRS, .attrs_size = sizeof(conv_attrs),
     .parse = conv_parse, .infer = convi_infer, .cpu = convi_cpu, .dtypes = "int8, uint8 -> int32"},
    {.name = "ConvTranspose", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 2, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = CONV_ATTRS ",output_padding,output_shape",
     .attrs_size = sizeof(conv_attrs), .parse = conv_parse, .infer = convt_infer, .cpu = convt_cpu,
     .dtypes = "float16, bfloat16, float, double", .grad = ot_conv_transpose_grad},
    /* Gradient ops (ops/conv_grad.c). */
    {.name = "ConvGradInput", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 2, .min_outputs = 1, .max_outputs = 1, .attr_names = OT_CONV_GRAD_ATTRS ",input_shape",
     .attrs_size = sizeof(ot_conv_grad_attrs), .parse = ot_conv_grad_parse, .infer = ot_conv_grad_input_infer,
     .cpu = ot_conv_grad_input_cpu, .dtypes = "float16, bfloat16, float, double"},
    {.name = "ConvGradWeight", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 2, .min_outputs = 1, .max_outputs = 2, .attr_names = OT_CONV_GRAD_ATTRS,
     .attrs_size = sizeof(ot_conv_grad_attrs), .parse = ot_conv_grad_parse, .infer = ot_conv_grad_weight_infer,
     .cpu = ot_conv_grad_weight_cpu, .dtypes = "float16, bfloat16, float, double"},
};
const int ot_ops_conv_count = sizeof ot_ops_conv / sizeof ot_ops_conv[0];
