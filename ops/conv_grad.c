/* Gradients of Conv and ConvTranspose: the rules, and the ai.onnxtrain ops
 * they emit (ConvGradInput, ConvGradWeight; rows in ops/conv.c's table).
 *
 * One geometry (kernels/cpu/conv.h) serves both directions: the "image" side
 * is Conv's X / ConvTranspose's Y, the "col" side Conv's Y / ConvTranspose's
 * X.  So
 *   Conv:          dX = ConvTranspose-forward(dY, W), dW = dY im2col(X)^T
 *   ConvTranspose: dX = Conv-forward(dY, W),          dW = X im2col(dY)^T
 *   both:          dB = dY summed over N and the spatial dims.
 * The rules resolve the forward's geometry (auto_pad, output_shape,
 * output_padding...) once and pass it to the gradient ops explicitly. */
#include <string.h>

#include "conv_ops.h"
#include "kernels/cpu/matmul.h"
#include "src/core/alloc.h"
#include "src/runtime/workspace.h"

#define MAXD OT_WINDOW_MAX_DIMS

/* ======================= the gradient ops ======================= */

static ot_status get_ints(const ot_node *n, const char *name, int want, int64_t dflt, int64_t *dst) {
    const int64_t *v;
    int count;
    OT_TRY(ot_attr_get_ints(n, name, &v, &count));
    if (count >= 0 && count != want)
        return ot_error(OT_ERR_PARSE, "%s node '%s': %s has %d values, expected %d", n->op_type, n->name ? n->name : "",
                        name, count, want);
    for (int i = 0; i < want; i++) dst[i] = count >= 0 ? v[i] : dflt;
    return OT_OK;
}

ot_status ot_conv_grad_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    ot_conv_grad_attrs *a = out;
    const int64_t *v;
    int count;
    OT_TRY(ot_attr_get_ints(n, "kernel_shape", &v, &count));
    if (count < 1 || count > MAXD)
        return ot_error(OT_ERR_PARSE, "%s node '%s': kernel_shape must list 1 to %d spatial dims", n->op_type,
                        n->name ? n->name : "", MAXD);
    a->n = count;
    memcpy(a->kernel, v, sizeof(int64_t) * (size_t)count);
    OT_TRY(get_ints(n, "strides", count, 1, a->strides));
    OT_TRY(get_ints(n, "dilations", count, 1, a->dilations));
    OT_TRY(get_ints(n, "pads", 2 * count, 0, a->pads));
    int64_t t;
    OT_TRY(ot_attr_get_int(n, "group", 1, &a->group));
    OT_TRY(ot_attr_get_int(n, "transposed", 0, &t));
    a->transposed = t != 0;
    a->n_input_shape = -1;
    if (!strcmp(n->op_type, "ConvGradInput")) {
        OT_TRY(ot_attr_get_ints(n, "input_shape", &v, &count));
        if (count != a->n + 2)
            return ot_error(OT_ERR_PARSE, "ConvGradInput node '%s': input_shape must have %d values", n->name ? n->name : "",
                            a->n + 2);
        a->n_input_shape = count;
        memcpy(a->input_shape, v, sizeof(int64_t) * (size_t)count);
    }
    return OT_OK;
}

static const ot_dtype cg_types[] = {OT_FLOAT16, OT_BFLOAT16, OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};

/* The shapes involved, whichever op: N, C (forward input channels), M
   (forward output channels), and the image / col spatial dims. */
typedef struct cg_shapes {
    int64_t N, C, M, G;
    const int64_t *img, *col;
    ot_conv_geom geom;
} cg_shapes;

/* Checks that img, col and the attributes describe one convolution: the
 * window positions are exactly those floor((img + pads - extent) / stride)
 * + 1 gives.  The begin pad places the windows; the end pad only checks. */
static ot_status cg_geometry(ot_kctx *c, cg_shapes *s) {
    const ot_conv_grad_attrs *a = c->attrs;
    ot_conv_geom *g = &s->geom;
    memset(g, 0, sizeof *g);
    g->n = a->n;
    if (s->G < 1 || s->C % s->G || s->M % s->G)
        return ot_op_error(c, OT_ERR_SHAPE, "channels %lld and %lld are not divisible by group %lld", (long long)s->C,
                           (long long)s->M, (long long)s->G);
    for (int i = 0; i < a->n; i++) {
        int64_t k = a->kernel[i], st = a->strides[i], d = a->dilations[i], pb = a->pads[i], pe = a->pads[a->n + i];
        int64_t im = s->img[i], co = s->col[i];
        if (k < 1 || st < 1 || d < 1 || k > ((int64_t)1 << 30) || st > ((int64_t)1 << 30) || d > ((int64_t)1 << 30) ||
            pb < -((int64_t)1 << 40) || pb > ((int64_t)1 << 40) || pe < -((int64_t)1 << 40) || pe > ((int64_t)1 << 40))
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: kernel, stride and dilation must be >= 1", i);
        int64_t ext = (k - 1) * d + 1, lo = (co - 1) * st + ext, span = im + pb + pe;
        if (co < 0 || im < 0 || (co > 0 && (span < lo || span >= lo + st)))
            return ot_op_error(c, OT_ERR_SHAPE,
                               "spatial dim %d: %lld window positions do not fit an image of %lld with pads (%lld, %lld), "
                               "kernel %lld, stride %lld, dilation %lld",
                               i, (long long)co, (long long)im, (long long)pb, (long long)pe, (long long)k, (long long)st,
                               (long long)d);
        g->img[i] = im;
        g->col[i] = co;
        g->kernel[i] = k;
        g->stride[i] = st;
        g->dilation[i] = d;
        g->pad[i] = pb;
    }
    ot_conv_geom_finish(g);
    int64_t Kc = (a->transposed ? s->M : s->C) / s->G * g->kernel_size;
    if (!ot_blas_fits(Kc) || !ot_blas_fits(g->col_size) || !ot_blas_fits(g->img_size) || !ot_blas_fits(s->C) ||
        !ot_blas_fits(s->M) || !ot_blas_fits(s->M / s->G * g->kernel_size) || !ot_blas_fits(s->C / s->G * g->kernel_size))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "convolution gradient too large for 32-bit BLAS dims");
    return OT_OK;
}

static ot_status check_common(ot_kctx *c, const ot_tensor *t, const char *what) {
    const ot_conv_grad_attrs *a = c->attrs;
    if (t->rank != a->n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "%s has rank %d; kernel_shape says %d spatial dims", what, t->rank, a->n);
    return OT_OK;
}

/* W of the forward: Conv (M, C/G, k...), ConvTranspose (C, M/G, k...). */
static ot_status check_weight(ot_kctx *c, const cg_shapes *s, int rank, const int64_t *w) {
    const ot_conv_grad_attrs *a = c->attrs;
    int64_t d0 = a->transposed ? s->C : s->M, d1 = (a->transposed ? s->M : s->C) / s->G;
    bool ok = rank == a->n + 2 && w[0] == d0 && w[1] == d1;
    for (int i = 0; ok && i < a->n; i++) ok = w[2 + i] == a->kernel[i];
    char buf[128];
    if (!ok)
        return ot_op_error(c, OT_ERR_SHAPE, "W %s does not match (%lld, %lld) and kernel_shape",
                           ot_shape_str(rank, w, buf, sizeof buf), (long long)d0, (long long)d1);
    return OT_OK;
}

/* ConvGradInput(dY, W): dY (N, M, col...) [ConvTranspose: (N, M, img...)],
   input_shape (N, C, img...) [col...]. */
static ot_status cgi_shapes(ot_kctx *c, cg_shapes *s) {
    const ot_conv_grad_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, 0), *w = ot_in(c, 1);
    OT_TRY(ot_check_dtype(c, 0, cg_types));
    if (w->dtype != dy->dtype) return ot_op_error(c, OT_ERR_TYPE, "dY and W must have the same type");
    OT_TRY(check_common(c, dy, "dY"));
    const int64_t *xs = a->input_shape;
    if (xs[0] != dy->dims[0])
        return ot_op_error(c, OT_ERR_SHAPE, "dY has batch %lld, input_shape %lld", (long long)dy->dims[0], (long long)xs[0]);
    *s = (cg_shapes){.N = xs[0], .C = xs[1], .M = dy->dims[1], .G = a->group};
    s->img = a->transposed ? dy->dims + 2 : xs + 2;
    s->col = a->transposed ? xs + 2 : dy->dims + 2;
    OT_TRY(cg_geometry(c, s));
    return check_weight(c, s, w->rank, w->dims);
}

/* ConvGradWeight(dY, X): X (N, C, img...) [ConvTranspose: (N, C, col...)]. */
static ot_status cgw_shapes(ot_kctx *c, cg_shapes *s) {
    const ot_conv_grad_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, 0), *x = ot_in(c, 1);
    OT_TRY(ot_check_dtype(c, 0, cg_types));
    if (x->dtype != dy->dtype) return ot_op_error(c, OT_ERR_TYPE, "dY and X must have the same type");
    OT_TRY(check_common(c, dy, "dY"));
    OT_TRY(check_common(c, x, "X"));
    if (x->dims[0] != dy->dims[0])
        return ot_op_error(c, OT_ERR_SHAPE, "dY has batch %lld, X %lld", (long long)dy->dims[0], (long long)x->dims[0]);
    *s = (cg_shapes){.N = x->dims[0], .C = x->dims[1], .M = dy->dims[1], .G = a->group};
    s->img = a->transposed ? dy->dims + 2 : x->dims + 2;
    s->col = a->transposed ? x->dims + 2 : dy->dims + 2;
    return cg_geometry(c, s);
}

ot_status ot_conv_grad_input_infer(ot_kctx *c) {
    const ot_conv_grad_attrs *a = c->attrs;
    cg_shapes s;
    OT_TRY(cgi_shapes(c, &s));
    int64_t n;
    OT_TRY(ot_shape_numel(a->n + 2, a->input_shape, &n));
    ot_set_out(c, 0, ot_in(c, 0)->dtype, a->n + 2, a->input_shape);
    return OT_OK;
}

ot_status ot_conv_grad_weight_infer(ot_kctx *c) {
    const ot_conv_grad_attrs *a = c->attrs;
    cg_shapes s;
    OT_TRY(cgw_shapes(c, &s));
    int64_t w[OT_MAX_RANK] = {a->transposed ? s.C : s.M, (a->transposed ? s.M : s.C) / s.G};
    memcpy(w + 2, a->kernel, sizeof(int64_t) * (size_t)a->n);
    ot_dtype dt = ot_in(c, 0)->dtype;
    ot_set_out(c, 0, dt, a->n + 2, w);
    ot_set_out(c, 1, dt, 1, &s.M);
    return OT_OK;
}

/* float16/bfloat16: the kernels run on float32 copies of in[0..1] and write
   float32 outputs that are narrowed afterwards. */
typedef struct f32_io {
    const void *in[2];
    void *out[2];
    float *own[4];
} f32_io;

static ot_status io_begin(ot_kctx *c, f32_io *io, bool *half) {
    memset(io, 0, sizeof *io);
    ot_dtype dt = ot_in(c, 0)->dtype;
    *half = dt == OT_FLOAT16 || dt == OT_BFLOAT16;
    for (int i = 0; i < 2; i++) {
        const ot_tensor *t = ot_in(c, i);
        ot_tensor *o = ot_out(c, i);
        io->in[i] = t->data;
        io->out[i] = o ? o->data : NULL;
        if (!*half) continue;
        int64_t n = ot_tensor_numel(t), m = o ? ot_tensor_numel(o) : 0;
        io->own[i] = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
        if (o) io->own[2 + i] = ot_workspace_alloc((size_t)(m ? m : 1) * sizeof(float));
        if (!io->own[i] || (o && !io->own[2 + i])) {
            for (int k = 0; k < 4; k++) ot_workspace_free(io->own[k]);
            return ot_op_error(c, OT_ERR_NOMEM, "out of memory for float32 copies");
        }
        ot_half_to_f32(dt, t->data, io->own[i], n);
        io->in[i] = io->own[i];
        if (o) io->out[i] = io->own[2 + i];
    }
    return OT_OK;
}

static ot_status io_end(ot_kctx *c, f32_io *io, bool half, ot_status s) {
    for (int i = 0; i < 2 && half && s == OT_OK; i++) {
        ot_tensor *o = ot_out(c, i);
        if (o) ot_f32_to_half(o->dtype, io->own[2 + i], o->data, ot_tensor_numel(o));
    }
    for (int k = 0; k < 4; k++) ot_workspace_free(io->own[k]);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    return OT_OK;
}

ot_status ot_conv_grad_input_cpu(ot_kctx *c) {
    const ot_conv_grad_attrs *a = c->attrs;
    cg_shapes s;
    OT_TRY(cgi_shapes(c, &s));
    ot_tensor *dx = ot_out(c, 0);
    if (!dx || ot_tensor_numel(dx) == 0) return OT_OK;
    f32_io io;
    bool half;
    OT_TRY(io_begin(c, &io, &half));
    ot_dtype dt = half ? OT_FLOAT : dx->dtype;
    ot_status st;
    if (ot_tensor_numel(ot_in(c, 0)) == 0) { /* no window position: no gradient */
        memset(io.out[0], 0, (size_t)ot_tensor_numel(dx) * (dt == OT_FLOAT ? 4 : 8));
        st = OT_OK;
    } else if (!a->transposed) { /* dX (img) = the transposed convolution of dY (col) with W (M, C/G, k...) */
        st = ot_conv_transpose_forward(dt, &s.geom, s.N, s.M, s.C, s.G, io.in[0], io.in[1], NULL, io.out[0]);
    } else { /* dX (col) = the convolution of dY (img) with W (C, M/G, k...) */
        st = ot_conv_forward(dt, &s.geom, s.N, s.M, s.C, s.G, io.in[0], io.in[1], NULL, io.out[0]);
    }
    return io_end(c, &io, half, st);
}

ot_status ot_conv_grad_weight_cpu(ot_kctx *c) {
    const ot_conv_grad_attrs *a = c->attrs;
    cg_shapes s;
    OT_TRY(cgw_shapes(c, &s));
    f32_io io;
    bool half;
    OT_TRY(io_begin(c, &io, &half));
    ot_dtype dt = half ? OT_FLOAT : ot_in(c, 0)->dtype;
    ot_status st = OT_OK;
    const void *dy = io.in[0], *x = io.in[1];
    if (io.out[0]) {
        if (!a->transposed) st = ot_conv_weight_grad(dt, &s.geom, s.N, s.C, s.M, s.G, x, dy, io.out[0]);
        else st = ot_conv_weight_grad(dt, &s.geom, s.N, s.M, s.C, s.G, dy, x, io.out[0]);
    }
    if (io.out[1] && st == OT_OK) {
        int64_t S = a->transposed ? s.geom.img_size : s.geom.col_size;
        ot_conv_bias_grad(dt, s.N, s.M, S, dy, io.out[1]);
    }
    return io_end(c, &io, half, st);
}

/* ======================= the rules ======================= */

/* dX, dW, dB of Conv (transposed false) or ConvTranspose. */
static ot_status conv_grad_rule(ot_grad_ctx *g, bool transposed) {
    int dY = ot_grad_dy(g, 0), X = ot_grad_x(g, 0), W = ot_grad_x(g, 1), B = ot_grad_x(g, 2);
    if (dY < 0) return OT_OK;
    /* The forward's geometry, resolved by the forward's own code. */
    ot_grad_shape sx = ot_grad_shape_of(g, X), sw = ot_grad_shape_of(g, W), sb = {0};
    if (B >= 0) sb = ot_grad_shape_of(g, B);
    ot_tensor tx = {.dtype = sx.dtype, .rank = sx.rank}, tw = {.dtype = sw.dtype, .rank = sw.rank};
    ot_tensor tb = {.dtype = sb.dtype, .rank = sb.rank};
    memcpy(tx.dims, sx.dims, sizeof tx.dims);
    memcpy(tw.dims, sw.dims, sizeof tw.dims);
    memcpy(tb.dims, sb.dims, sizeof tb.dims);
    ot_tensor *ins[3] = {&tx, &tw, B >= 0 ? &tb : NULL};
    const ot_node *node = ot_grad_node(g);
    ot_kctx kc = {.node = node, .name = node->name && node->name[0] ? node->name : node->op_type,
                  .opset = ot_grad_opset(g), .attrs = ot_grad_attrs(g), .n_in = 3, .in = ins};
    ot_conv_geom geo;
    int64_t M; /* validated; the gradient ops take it from dY */
    OT_TRY(ot_conv_op_geometry(&kc, transposed, &geo, &M));
    const conv_attrs *ca = ot_grad_attrs(g);
    int n = geo.n;
    int64_t pads[2 * MAXD], input_shape[MAXD + 2];
    for (int i = 0; i < n; i++) { /* end pad: exactly what the last window reaches */
        pads[i] = geo.pad[i];
        pads[n + i] = geo.col[i] > 0 ? (geo.col[i] - 1) * geo.stride[i] + (geo.kernel[i] - 1) * geo.dilation[i] + 1 -
                                           geo.img[i] - geo.pad[i]
                                     : 0;
    }
    memcpy(input_shape, sx.dims, sizeof(int64_t) * (size_t)sx.rank);
    ot_grad_attr at[7] = {
        {.name = "kernel_shape", .type = OT_ATTR_INTS, .ints = geo.kernel, .n = n},
        {.name = "strides", .type = OT_ATTR_INTS, .ints = geo.stride, .n = n},
        {.name = "dilations", .type = OT_ATTR_INTS, .ints = geo.dilation, .n = n},
        {.name = "pads", .type = OT_ATTR_INTS, .ints = pads, .n = 2 * n},
        {.name = "group", .type = OT_ATTR_INT, .i = ca->group},
        {.name = "transposed", .type = OT_ATTR_INT, .i = transposed},
        {.name = "input_shape", .type = OT_ATTR_INTS, .ints = input_shape, .n = n + 2},
    };
    int out[2];
    if (ot_grad_needs(g, 0)) {
        int in[2] = {dY, W};
        OT_TRY(ot_grad_emit(g, "ConvGradInput", OT_DOMAIN_TRAIN, 2, in, 1, out, 7, at));
        OT_TRY(ot_grad_set(g, 0, out[0]));
    }
    bool need_b = B >= 0 && ot_grad_needs(g, 2);
    if (ot_grad_needs(g, 1)) {
        int in[2] = {dY, X};
        OT_TRY(ot_grad_emit(g, "ConvGradWeight", OT_DOMAIN_TRAIN, 2, in, need_b ? 2 : 1, out, 6, at));
        OT_TRY(ot_grad_set(g, 1, out[0]));
        if (need_b) return ot_grad_set(g, 2, out[1]);
        return OT_OK;
    }
    if (need_b) { /* weights frozen, bias trained */
        int64_t axes[MAXD + 1] = {0};
        for (int i = 0; i < n; i++) axes[1 + i] = 2 + i;
        OT_TRY(ot_grad_reduce_sum(g, dY, n + 1, axes, false, &out[0]));
        OT_TRY(ot_grad_set(g, 2, out[0]));
    }
    return OT_OK;
}

ot_status ot_conv_grad(ot_grad_ctx *g) { return conv_grad_rule(g, false); }
ot_status ot_conv_transpose_grad(ot_grad_ctx *g) { return conv_grad_rule(g, true); }
