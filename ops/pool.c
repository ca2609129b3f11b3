/* Op family: pool — MaxPool, AveragePool, LpPool, MaxUnpool and
 * GlobalAveragePool, GlobalMaxPool, GlobalLpPool (ai.onnx opsets 7..23).
 *
 * Window geometry (output dims, auto_pad, ceil_mode) comes from
 * kernels/cpu/window.h, shared with Conv; the loops live in kernels/cpu/pool.c.
 * Attributes that appeared in later opsets (dilations, ceil_mode,
 * storage_order) are honoured at every opset: older models simply do not
 * carry them.
 *
 * Gradients: MaxPool and GlobalMaxPool through the ai.onnxtrain op
 * MaxPoolGrad (recomputes the argmax from X, so the forward stays as fast
 * when Indices are not requested), AveragePool and GlobalAveragePool through
 * AveragePoolGrad; the global pools are 1-D pools over the flattened spatial
 * dims.  LpPool and MaxUnpool have no gradient rule. */
#include <stdio.h>
#include <string.h>

#include "grad.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/window.h"

#define OT_POOL_FLOATS "float32, float64, float16, bfloat16"

typedef enum { OT_POOL_KIND_MAX, OT_POOL_KIND_AVG, OT_POOL_KIND_LP, OT_POOL_KIND_UNPOOL } ot_pool_kind;

typedef struct ot_pool_attrs {
    ot_pool_kind kind;
    int n; /* spatial dims = length of kernel_shape */
    int64_t kernel[OT_WINDOW_MAX_DIMS];
    int64_t strides[OT_WINDOW_MAX_DIMS];
    int64_t dilations[OT_WINDOW_MAX_DIMS];
    int64_t pads[2 * OT_WINDOW_MAX_DIMS];
    ot_auto_pad auto_pad;
    bool ceil_mode;
    bool count_include_pad; /* AveragePool */
    bool col_major;         /* MaxPool storage_order = 1 */
    int64_t p;              /* LpPool, GlobalLpPool */
    int64_t input_shape[OT_MAX_RANK]; /* AveragePoolGrad: the forward X's shape (n + 2 dims) */
} ot_pool_attrs;

/* An optional ints attribute of exactly `want` values, else `dflt` for all. */
static ot_status ot_pool_ints(const ot_node *n, const char *name, int want, int64_t dflt, int64_t *out) {
    const int64_t *v;
    int cnt;
    OT_TRY(ot_attr_get_ints(n, name, &v, &cnt));
    for (int i = 0; i < want; i++) out[i] = cnt < 0 ? dflt : 0;
    if (cnt < 0) return OT_OK;
    if (cnt != want)
        return ot_node_error(n, OT_ERR_PARSE, "attribute %s has %d values; expected %d for this kernel_shape", name,
                             cnt, want);
    memcpy(out, v, (size_t)want * sizeof *out);
    return OT_OK;
}

static ot_status ot_pool_flag(const ot_node *n, const char *name, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, 0, &v));
    if (v != 0 && v != 1) return ot_node_error(n, OT_ERR_PARSE, "attribute %s = %lld must be 0 or 1", name, (long long)v);
    *out = v != 0;
    return OT_OK;
}

static ot_status ot_pool_parse_common(const ot_node *n, ot_pool_kind kind, ot_pool_attrs *a) {
    memset(a, 0, sizeof *a);
    a->kind = kind;
    const int64_t *k;
    int nk;
    OT_TRY(ot_attr_get_ints(n, "kernel_shape", &k, &nk));
    if (nk < 0) return ot_node_error(n, OT_ERR_PARSE, "required attribute kernel_shape is missing");
    if (!ot_cpu_pool_dims_ok(nk))
        return ot_node_error(n, OT_ERR_UNSUPPORTED,
                             "%d-D pooling (kernel_shape of %d values): only 1-D, 2-D and 3-D are supported", nk, nk);
    a->n = nk;
    memcpy(a->kernel, k, (size_t)nk * sizeof *k);
    OT_TRY(ot_pool_ints(n, "strides", nk, 1, a->strides));
    OT_TRY(ot_pool_ints(n, "dilations", nk, 1, a->dilations));
    OT_TRY(ot_pool_ints(n, "pads", 2 * nk, 0, a->pads));
    const char *ap;
    OT_TRY(ot_attr_get_string(n, "auto_pad", "NOTSET", &ap));
    ot_status s = ot_auto_pad_parse(ap, &a->auto_pad);
    if (s) return ot_node_error(n, s, "%s", ot_last_error());
    OT_TRY(ot_pool_flag(n, "ceil_mode", &a->ceil_mode));
    return OT_OK;
}

static ot_status ot_maxpool_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_pool_attrs *a = attrs;
    OT_TRY(ot_pool_parse_common(n, OT_POOL_KIND_MAX, a));
    int64_t so;
    OT_TRY(ot_attr_get_int(n, "storage_order", 0, &so));
    if (so != 0 && so != 1) return ot_node_error(n, OT_ERR_PARSE, "storage_order must be 0 (row major) or 1 (column major)");
    a->col_major = so == 1;
    return OT_OK;
}

static ot_status ot_avgpool_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_pool_attrs *a = attrs;
    OT_TRY(ot_pool_parse_common(n, OT_POOL_KIND_AVG, a));
    return ot_pool_flag(n, "count_include_pad", &a->count_include_pad);
}

static ot_status ot_lp_p(const ot_node *n, int64_t *p) {
    OT_TRY(ot_attr_get_int(n, "p", 2, p));
    if (*p < 1) return ot_node_error(n, OT_ERR_PARSE, "attribute p must be >= 1");
    return OT_OK;
}

static ot_status ot_lppool_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_pool_attrs *a = attrs;
    OT_TRY(ot_pool_parse_common(n, OT_POOL_KIND_LP, a));
    return ot_lp_p(n, &a->p);
}

static ot_status ot_globallp_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_pool_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    a->kind = OT_POOL_KIND_LP;
    return ot_lp_p(n, &a->p);
}

/* ---- windowed pools ------------------------------------------------------ */

/* Checks X against the attributes and resolves the window. */
static ot_status ot_pool_window(ot_kctx *c, ot_window *w) {
    const ot_pool_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    bool ok = a->kind == OT_POOL_KIND_MAX ? ot_cpu_maxpool_dtype_ok(x->dtype) : ot_cpu_avgpool_dtype_ok(x->dtype);
    if (!ok)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input X has type %s; supported: %s", ot_dtype_name(x->dtype),
                           a->kind == OT_POOL_KIND_MAX ? "float32, float64, float16, bfloat16, int8, uint8"
                                                       : "float32, float64, float16, bfloat16");
    if (x->rank != a->n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input X has rank %d; a %d-D kernel_shape needs rank %d (N, C, spatial...)",
                           x->rank, a->n, a->n + 2);
    ot_status s = ot_window_compute(w, a->n, x->dims + 2, a->kernel, a->strides, a->dilations, a->pads, a->auto_pad,
                                    a->ceil_mode);
    if (s) return ot_op_error(c, s, "%s", ot_last_error());
    return OT_OK;
}

static ot_status ot_pool_infer(ot_kctx *c) {
    ot_window w;
    OT_TRY(ot_pool_window(c, &w));
    const ot_tensor *x = ot_in(c, 0);
    int64_t dims[OT_MAX_RANK], numel;
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < w.n; i++) dims[2 + i] = w.out[i];
    ot_status s = ot_shape_numel(x->rank, dims, &numel);
    if (s) return ot_op_error(c, s, "%s", ot_last_error());
    ot_set_out(c, 0, x->dtype, x->rank, dims);
    ot_set_out(c, 1, OT_INT64, x->rank, dims); /* MaxPool's Indices */
    return OT_OK;
}

static ot_status ot_pool_cpu(ot_kctx *c) {
    const ot_pool_attrs *a = c->attrs;
    ot_window w;
    OT_TRY(ot_pool_window(c, &w));
    const ot_tensor *x = ot_in(c, 0);
    ot_tensor *y = ot_out(c, 0);
    int64_t NC = x->dims[0] * x->dims[1];
    switch (a->kind) {
    case OT_POOL_KIND_MAX: {
        ot_tensor *ind = ot_out(c, 1);
        ot_cpu_maxpool(x->dtype, &w, NC, x->data, y->data, ind ? (int64_t *)ind->data : NULL, a->col_major);
        break;
    }
    case OT_POOL_KIND_AVG: ot_cpu_avgpool(x->dtype, &w, NC, x->data, y->data, a->count_include_pad); break;
    case OT_POOL_KIND_LP: ot_cpu_lppool(x->dtype, &w, NC, x->data, y->data, a->p); break;
    case OT_POOL_KIND_UNPOOL: return ot_op_error(c, OT_ERR_INTERNAL, "MaxUnpool reached the pooling kernel");
    }
    return OT_OK;
}

/* ---- MaxUnpool ---------------------------------------------------------------
 * Y (zeros) gets X[j] at flat index I[j] of the unpooled grid
 * (in - 1) * stride - pad_begin - pad_end + kernel per spatial axis; an
 * output_shape input may enlarge the spatial dims, the grid then sits at the
 * start of each axis (ONNX's reference semantics, which its tests follow). */

static ot_status ot_unpool_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_pool_parse_common(n, OT_POOL_KIND_UNPOOL, attrs);
}

/* The grid dims (full rank) from X and the attributes. */
static ot_status ot_unpool_grid(ot_kctx *c, int64_t *grid) {
    const ot_pool_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *ind = ot_in(c, 1);
    if (!ot_cpu_avgpool_dtype_ok(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input X has type %s; supported: " OT_POOL_FLOATS,
                           ot_dtype_name(x->dtype));
    if (x->rank != a->n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input X has rank %d; a %d-D kernel_shape needs rank %d", x->rank, a->n,
                           a->n + 2);
    if (ind->dtype != OT_INT64 || !ot_shape_equal(ind->rank, ind->dims, x->rank, x->dims))
        return ot_op_error(c, OT_ERR_SHAPE, "input I must be int64 with X's shape");
    grid[0] = x->dims[0];
    grid[1] = x->dims[1];
    for (int i = 0; i < a->n; i++) {
        int64_t k = a->kernel[i], s = a->strides[i], in = x->dims[2 + i];
        if (k < 1 || s < 1 || a->pads[i] < 0 || a->pads[a->n + i] < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "kernel_shape and strides must be >= 1 and pads >= 0");
        if (in > ((int64_t)1 << 40) || s > ((int64_t)1 << 20) || k > ((int64_t)1 << 40))
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: sizes too large", i);
        grid[2 + i] = in == 0 ? 0 : (in - 1) * s - a->pads[i] - a->pads[a->n + i] + k;
        if (grid[2 + i] < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: pads exceed the unpooled size", i);
    }
    int64_t numel;
    ot_status st = ot_shape_numel(x->rank, grid, &numel);
    if (st) return ot_op_error(c, st, "%s", ot_last_error());
    return OT_OK;
}

static ot_status ot_unpool_infer(ot_kctx *c) {
    int64_t grid[OT_MAX_RANK], out[OT_MAX_RANK];
    OT_TRY(ot_unpool_grid(c, grid));
    const ot_tensor *x = ot_in(c, 0);
    memcpy(out, grid, sizeof grid);
    if (ot_in(c, 2)) {
        OT_TRY(ot_need_value(c, 2));
        int64_t cnt;
        ot_status st = ot_tensor_to_i64(ot_in(c, 2), out, OT_MAX_RANK, &cnt);
        if (st) return ot_op_error(c, st, "output_shape: %s", ot_last_error());
        if (cnt != x->rank)
            return ot_op_error(c, OT_ERR_SHAPE, "output_shape has %lld values; X has rank %d", (long long)cnt, x->rank);
        for (int i = 0; i < x->rank; i++) {
            bool ok = i < 2 ? out[i] == grid[i] : out[i] >= grid[i];
            if (!ok) {
                char b1[96], b2[96];
                return ot_op_error(c, OT_ERR_SHAPE,
                                   "output_shape %s must keep N and C and hold the unpooled shape %s",
                                   ot_shape_str(x->rank, out, b1, sizeof b1), ot_shape_str(x->rank, grid, b2, sizeof b2));
            }
        }
        int64_t numel;
        ot_status s2 = ot_shape_numel(x->rank, out, &numel);
        if (s2) return ot_op_error(c, s2, "%s", ot_last_error());
    }
    ot_set_out(c, 0, x->dtype, x->rank, out);
    return OT_OK;
}

static ot_status ot_unpool_cpu(ot_kctx *c) {
    int64_t grid[OT_MAX_RANK];
    OT_TRY(ot_unpool_grid(c, grid));
    const ot_tensor *x = ot_in(c, 0), *ind = ot_in(c, 1);
    ot_tensor *y = ot_out(c, 0);
    memset(y->data, 0, ot_tensor_nbytes(y));
    int64_t bad = ot_cpu_maxunpool(x->dtype, x->data, ind->data, ot_tensor_numel(x), y->data, x->rank, grid, y->dims);
    if (bad >= 0)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "I[%lld] = %lld is outside the unpooled tensor of %lld elements",
                           (long long)bad, (long long)((const int64_t *)ind->data)[bad],
                           (long long)ot_tensor_numel(y));
    return OT_OK;
}

/* ---- global pools ---------------------------------------------------------- */

static ot_status ot_global_check(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    if (!ot_cpu_avgpool_dtype_ok(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input X has type %s; supported: float32, float64, float16, bfloat16",
                           ot_dtype_name(x->dtype));
    if (x->rank < 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input X has rank %d; expected (N, C, spatial...) of rank >= 2", x->rank);
    return OT_OK;
}

static ot_status ot_global_infer(ot_kctx *c) {
    OT_TRY(ot_global_check(c));
    const ot_tensor *x = ot_in(c, 0);
    int64_t dims[OT_MAX_RANK];
    for (int i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->dims[i] : 1;
    ot_set_out(c, 0, x->dtype, x->rank, dims);
    return OT_OK;
}

static ot_status ot_global_run(ot_kctx *c, ot_global_pool kind) {
    OT_TRY(ot_global_check(c));
    const ot_tensor *x = ot_in(c, 0);
    int64_t S = 1;
    for (int i = 2; i < x->rank; i++) S *= x->dims[i];
    const ot_pool_attrs *a = c->attrs;
    ot_cpu_global_pool(kind, x->dtype, x->dims[0] * x->dims[1], S, x->data, ot_out(c, 0)->data, a ? a->p : 0);
    return OT_OK;
}

static ot_status ot_global_avg_cpu(ot_kctx *c) { return ot_global_run(c, OT_GLOBAL_AVG); }
static ot_status ot_global_max_cpu(ot_kctx *c) { return ot_global_run(c, OT_GLOBAL_MAX); }
static ot_status ot_global_lp_cpu(ot_kctx *c) { return ot_global_run(c, OT_GLOBAL_LP); }

/* ---- gradient ops (ai.onnxtrain) -------------------------------------------
 * MaxPoolGrad(X, dY) -> dX      X (N, C, spatial...), dY (N, C, out...):
 *   dY goes to the first maximum of each window (row-major tap order).
 * AveragePoolGrad(dY) -> dX     dX shaped input_shape (N, C, spatial...).
 * Both carry the forward's window attributes (kernel_shape, strides,
 * dilations, pads, auto_pad, ceil_mode; count_include_pad for the average)
 * and resolve the window exactly as the forward does. */

static ot_status ot_maxpool_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_pool_parse_common(n, OT_POOL_KIND_MAX, attrs);
}

static ot_status ot_avgpool_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_pool_attrs *a = attrs;
    OT_TRY(ot_avgpool_parse(n, opset, a));
    const int64_t *v;
    int cnt;
    OT_TRY(ot_attr_get_ints(n, "input_shape", &v, &cnt));
    if (cnt != a->n + 2)
        return ot_node_error(n, OT_ERR_PARSE, "attribute input_shape must list the %d dims of the forward X (it has %d)",
                             a->n + 2, cnt < 0 ? 0 : cnt);
    memcpy(a->input_shape, v, (size_t)cnt * sizeof *v);
    for (int i = 0; i < cnt; i++)
        if (v[i] < 0) return ot_node_error(n, OT_ERR_PARSE, "attribute input_shape has a negative dim");
    return OT_OK;
}

/* The window of a gradient op from the forward X's dims; checks dY against it. */
static ot_status ot_pool_grad_window(ot_kctx *c, const int64_t *xdims, ot_window *w) {
    const ot_pool_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, c->n_in - 1);
    if (!ot_cpu_avgpool_dtype_ok(dy->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "dY has type %s; supported: " OT_POOL_FLOATS, ot_dtype_name(dy->dtype));
    ot_status s = ot_window_compute(w, a->n, xdims + 2, a->kernel, a->strides, a->dilations, a->pads, a->auto_pad,
                                    a->ceil_mode);
    if (s) return ot_op_error(c, s, "%s", ot_last_error());
    int64_t want[OT_MAX_RANK] = {xdims[0], xdims[1]};
    for (int i = 0; i < w->n; i++) want[2 + i] = w->out[i];
    if (!ot_shape_equal(dy->rank, dy->dims, a->n + 2, want)) {
        char b1[96], b2[96];
        return ot_op_error(c, OT_ERR_SHAPE, "dY has shape %s; the pooling window gives %s",
                           ot_shape_str(dy->rank, dy->dims, b1, sizeof b1), ot_shape_str(a->n + 2, want, b2, sizeof b2));
    }
    return OT_OK;
}

static ot_status ot_maxpool_grad_check(ot_kctx *c, ot_window *w) {
    const ot_pool_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0), *dy = ot_in(c, 1);
    if (x->dtype != dy->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "X has type %s but dY has type %s", ot_dtype_name(x->dtype),
                           ot_dtype_name(dy->dtype));
    if (x->rank != a->n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input X has rank %d; a %d-D kernel_shape needs rank %d", x->rank, a->n,
                           a->n + 2);
    return ot_pool_grad_window(c, x->dims, w);
}

static ot_status ot_maxpool_grad_infer(ot_kctx *c) {
    ot_window w;
    OT_TRY(ot_maxpool_grad_check(c, &w));
    const ot_tensor *x = ot_in(c, 0);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status ot_maxpool_grad_cpu(ot_kctx *c) {
    ot_window w;
    OT_TRY(ot_maxpool_grad_check(c, &w));
    const ot_tensor *x = ot_in(c, 0);
    ot_cpu_maxpool_grad(x->dtype, &w, x->dims[0] * x->dims[1], x->data, ot_in(c, 1)->data, ot_out(c, 0)->data);
    return OT_OK;
}

static ot_status ot_avgpool_grad_infer(ot_kctx *c) {
    const ot_pool_attrs *a = c->attrs;
    ot_window w;
    OT_TRY(ot_pool_grad_window(c, a->input_shape, &w));
    int64_t numel;
    ot_status s = ot_shape_numel(a->n + 2, a->input_shape, &numel);
    if (s) return ot_op_error(c, s, "input_shape: %s", ot_last_error());
    ot_set_out(c, 0, ot_in(c, 0)->dtype, a->n + 2, a->input_shape);
    return OT_OK;
}

static ot_status ot_avgpool_grad_cpu(ot_kctx *c) {
    const ot_pool_attrs *a = c->attrs;
    ot_window w;
    OT_TRY(ot_pool_grad_window(c, a->input_shape, &w));
    const ot_tensor *dy = ot_in(c, 0);
    ot_cpu_avgpool_grad(dy->dtype, &w, a->input_shape[0] * a->input_shape[1], dy->data, ot_out(c, 0)->data,
                        a->count_include_pad);
    return OT_OK;
}

/* ---- gradient rules ---------------------------------------------------------- */

/* The forward's window attributes for a gradient node; *a must outlive at[]. */
static int ot_pool_grad_attrs(const ot_pool_attrs *a, ot_grad_attr *at) {
    int k = 0;
    at[k++] = (ot_grad_attr){.name = "kernel_shape", .type = OT_ATTR_INTS, .ints = a->kernel, .n = a->n};
    at[k++] = (ot_grad_attr){.name = "strides", .type = OT_ATTR_INTS, .ints = a->strides, .n = a->n};
    at[k++] = (ot_grad_attr){.name = "dilations", .type = OT_ATTR_INTS, .ints = a->dilations, .n = a->n};
    at[k++] = (ot_grad_attr){.name = "pads", .type = OT_ATTR_INTS, .ints = a->pads, .n = 2 * a->n};
    at[k++] = (ot_grad_attr){.name = "auto_pad", .type = OT_ATTR_STRING, .s = ot_auto_pad_name(a->auto_pad)};
    at[k++] = (ot_grad_attr){.name = "ceil_mode", .type = OT_ATTR_INT, .i = a->ceil_mode};
    return k;
}

/* MaxPool: dX = MaxPoolGrad(X, dY); the Indices output carries no gradient. */
static ot_status ot_maxpool_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    ot_pool_attrs a = *(const ot_pool_attrs *)ot_grad_attrs(g);
    ot_grad_attr at[8];
    int n_at = ot_pool_grad_attrs(&a, at);
    int in[2] = {ot_grad_x(g, 0), dy}, dx;
    OT_TRY(ot_grad_emit(g, "MaxPoolGrad", OT_DOMAIN_TRAIN, 2, in, 1, &dx, n_at, at));
    return ot_grad_set(g, 0, dx);
}

/* AveragePool: dX = AveragePoolGrad(dY) shaped like X. */
static ot_status ot_avgpool_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    ot_pool_attrs a = *(const ot_pool_attrs *)ot_grad_attrs(g);
    const ot_tensor *x = ot_grad_value(g, ot_grad_x(g, 0));
    memcpy(a.input_shape, x->dims, sizeof(int64_t) * (size_t)x->rank);
    ot_grad_attr at[10];
    int n_at = ot_pool_grad_attrs(&a, at);
    at[n_at++] = (ot_grad_attr){.name = "count_include_pad", .type = OT_ATTR_INT, .i = a.count_include_pad};
    at[n_at++] = (ot_grad_attr){.name = "input_shape", .type = OT_ATTR_INTS, .ints = a.input_shape, .n = a.n + 2};
    int dx;
    OT_TRY(ot_grad_emit(g, "AveragePoolGrad", OT_DOMAIN_TRAIN, 1, &dy, 1, &dx, n_at, at));
    return ot_grad_set(g, 0, dx);
}

/* GlobalMaxPool / GlobalAveragePool: a 1-D pool of kernel S over X viewed as
 * (N, C, S), S the product of the spatial dims (row-major, so the scan order
 * is the forward's). */
static ot_status ot_global_grad(ot_grad_ctx *g, bool max) {
    int dy = ot_grad_dy(g, 0), x = ot_grad_x(g, 0);
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_tensor *xv = ot_grad_value(g, x);
    int rank = xv->rank;
    int64_t xdims[OT_MAX_RANK], S = 1;
    memcpy(xdims, xv->dims, sizeof(int64_t) * (size_t)rank);
    for (int i = 2; i < rank; i++) S *= xdims[i];
    if (S == 1) return ot_grad_set(g, 0, dy); /* Y has X's shape and equals it */
    int dx;
    if (S == 0) { /* empty X: an empty gradient of its shape */
        int zero;
        OT_TRY(ot_grad_const_scalar(g, xv->dtype, 0.0, &zero));
        OT_TRY(ot_grad_op2(g, "Mul", x, zero, &dx));
        return ot_grad_set(g, 0, dx);
    }
    ot_pool_attrs a;
    memset(&a, 0, sizeof a);
    a.n = 1;
    a.kernel[0] = S;
    a.strides[0] = a.dilations[0] = 1;
    a.input_shape[0] = xdims[0];
    a.input_shape[1] = xdims[1];
    a.input_shape[2] = S;
    int64_t dy3[3] = {xdims[0], xdims[1], 1};
    int dyr, pooled;
    OT_TRY(ot_grad_reshape(g, dy, 3, dy3, &dyr));
    ot_grad_attr at[10];
    int n_at = ot_pool_grad_attrs(&a, at);
    if (max) {
        int in[2] = {-1, dyr};
        OT_TRY(ot_grad_reshape(g, x, 3, a.input_shape, &in[0]));
        OT_TRY(ot_grad_emit(g, "MaxPoolGrad", OT_DOMAIN_TRAIN, 2, in, 1, &pooled, n_at, at));
    } else {
        at[n_at++] = (ot_grad_attr){.name = "input_shape", .type = OT_ATTR_INTS, .ints = a.input_shape, .n = 3};
        OT_TRY(ot_grad_emit(g, "AveragePoolGrad", OT_DOMAIN_TRAIN, 1, &dyr, 1, &pooled, n_at, at));
    }
    OT_TRY(ot_grad_reshape(g, pooled, rank, xdims, &dx));
    return ot_grad_set(g, 0, dx);
}

static ot_status ot_global_max_grad(ot_grad_ctx *g) { return ot_global_grad(g, true); }
static ot_status ot_global_avg_grad(ot_grad_ctx *g) { return ot_global_grad(g, false); }

#define OT_POOL_WINDOW_ATTRS "auto_pad,ceil_mode,dilations,kernel_shape,pads,strides"

const ot_op_def ot_ops_pool[] = {
    {.name = "MaxPool", .domain = "", .min_opset = 1, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 2,
     .attr_names = OT_POOL_WINDOW_ATTRS ",storage_order", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_maxpool_parse, .infer = ot_pool_infer, .cpu = ot_pool_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS ", int8, uint8 (Indices: int64)", .grad = ot_maxpool_grad},
    {.name = "AveragePool", .domain = "", .min_opset = 7, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = OT_POOL_WINDOW_ATTRS ",count_include_pad", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_avgpool_parse, .infer = ot_pool_infer, .cpu = ot_pool_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS, .grad = ot_avgpool_grad},
    {.name = "LpPool", .domain = "", .min_opset = 2, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = OT_POOL_WINDOW_ATTRS ",p", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_lppool_parse, .infer = ot_pool_infer, .cpu = ot_pool_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS},
    {.name = "MaxUnpool", .domain = "", .min_opset = 9, .max_opset = 23,
     .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "kernel_shape,pads,strides", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_unpool_parse, .infer = ot_unpool_infer, .cpu = ot_unpool_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS " (I: int64)"},
    {.name = "GlobalAveragePool", .domain = "", .min_opset = 1, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "", .attrs_size = 0,
     .parse = NULL, .infer = ot_global_infer, .cpu = ot_global_avg_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS, .grad = ot_global_avg_grad},
    {.name = "GlobalMaxPool", .domain = "", .min_opset = 1, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "", .attrs_size = 0,
     .parse = NULL, .infer = ot_global_infer, .cpu = ot_global_max_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS, .grad = ot_global_max_grad},
    {.name = "GlobalLpPool", .domain = "", .min_opset = 2, .max_opset = 23,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "p", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_globallp_parse, .infer = ot_global_infer, .cpu = ot_global_lp_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS},
    {.name = "MaxPoolGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1,
     .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
     .attr_names = OT_POOL_WINDOW_ATTRS, .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_maxpool_grad_parse, .infer = ot_maxpool_grad_infer, .cpu = ot_maxpool_grad_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS},
    {.name = "AveragePoolGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1,
     .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
     .attr_names = OT_POOL_WINDOW_ATTRS ",count_include_pad,input_shape", .attrs_size = sizeof(ot_pool_attrs),
     .parse = ot_avgpool_grad_parse, .infer = ot_avgpool_grad_infer, .cpu = ot_avgpool_grad_cpu, .traits = 0,
     .dtypes = OT_POOL_FLOATS},
};
const int ot_ops_pool_count = sizeof ot_ops_pool / sizeof ot_ops_pool[0];
