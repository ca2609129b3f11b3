/* Gradient checks for the matmul family (MatMul, FusedMatMul, Gemm, Einsum)
 * and the conv family (Conv, ConvTranspose). */
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/conv.h"
#include "ops/conv_ops.h"
#include "src/core/alloc.h"

#include <math.h>
#include <omp.h>

#define D0 {GC_DIFF, 0, 0, {0}}

#define MM(nm, a, b) {.name = nm, .op = "MatMul", .n_in = 2, .n_out = 1, .in = {a, b}}
#define FMM(nm, ta, tb, a, b) {.name = nm, .op = "FusedMatMul", .domain = OT_DOMAIN_TRAIN, .n_in = 2, .n_out = 1, \
                               .in = {a, b}, .n_attrs = 2, .attrs = {AI("transA", ta), AI("transB", tb)}}
#define EIN(nm, eq, n, ...) {.name = nm, .op = "Einsum", .n_in = n, .n_out = 1, .in = {__VA_ARGS__}, \
                             .n_attrs = 1, .attrs = {AS("equation", eq)}}

static const gc_case mm_cases[] = {
    MM("matmul_2x3_3x4", D(2, 3), D(3, 4)),
    MM("matmul_dot_1d_1d", D(3), D(3)),
    MM("matmul_1d_2d", D(3), D(3, 4)),
    MM("matmul_1d_3d", D(3), D(2, 3, 4)),
    MM("matmul_2d_1d", D(2, 3), D(3)),
    MM("matmul_3d_1d", D(2, 2, 3), D(3)),
    MM("matmul_3d_2d_linear", D(2, 3, 4), D(4, 5)),
    MM("matmul_4d_2d_linear", D(2, 2, 3, 4), D(4, 2)),
    MM("matmul_2d_3d", D(3, 4), D(2, 4, 5)),
    MM("matmul_batch_3d_3d", D(2, 3, 4), D(2, 4, 2)),
    MM("matmul_batch_bcast_4d_3d", D(2, 1, 3, 4), D(3, 4, 2)),
    MM("matmul_batch_bcast_1_vs_2", D(1, 3, 4), D(2, 4, 5)),
    MM("matmul_batch_bcast_both", D(2, 1, 2, 3), D(1, 3, 3, 2)),
    {.name = "matmul_2d_opset9", .op = "MatMul", .opset = 9, .n_in = 2, .n_out = 1, .in = {D(2, 3), D(3, 4)}},
    {.name = "matmul_2d_opset5", .op = "MatMul", .opset = 5, .n_in = 2, .n_out = 1, .in = {D(2, 3), D(3, 4)}},
    {.name = "matmul_3d_2d_opset6", .op = "MatMul", .opset = 6, .n_in = 2, .n_out = 1, .in = {D(2, 3, 4), D(4, 5)}},
    {.name = "matmul_3d_2d_opset7", .op = "MatMul", .opset = 7, .n_in = 2, .n_out = 1, .in = {D(2, 3, 4), D(4, 5)}},
    {.name = "matmul_a_only", .op = "MatMul", .n_in = 2, .n_out = 1, .in = {D(2, 3, 4), ND(4, 5)}},
    {.name = "matmul_b_only", .op = "MatMul", .n_in = 2, .n_out = 1, .in = {ND(2, 3, 4), D(4, 5)}},
    FMM("fusedmatmul_tA", 1, 0, D(2, 4, 3), D(2, 4, 5)),
    FMM("fusedmatmul_tB", 0, 1, D(2, 3, 4), D(2, 5, 4)),
    FMM("fusedmatmul_tAtB", 1, 1, D(2, 4, 3), D(5, 4)),
    FMM("fusedmatmul_tA_2d", 1, 0, D(4, 3), D(4, 5)),
    FMM("fusedmatmul_tB_linear", 0, 1, D(2, 3, 4), D(5, 4)),
    FMM("fusedmatmul_none_1d", 0, 0, D(4), D(2, 4, 3)),
};

#define GEMM(nm, op_, c, na, ...) {.name = nm, .op = "Gemm", .opset = op_, .n_in = 3, .n_out = 1, \
                                   .in = {D(3, 4), D(4, 5), c}, .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case gemm_cases[] = {
    GEMM("gemm_plain_c_full", 0, D(3, 5), 0, AI("transA", 0)),
    GEMM("gemm_c_row", 0, D(5), 0, AI("transA", 0)),
    GEMM("gemm_c_col", 0, D(3, 1), 0, AI("transA", 0)),
    GEMM("gemm_c_scalar", 0, D0, 0, AI("transA", 0)),
    GEMM("gemm_c_1x1", 0, D(1, 1), 0, AI("transA", 0)),
    GEMM("gemm_alpha_beta", 0, D(5), 2, AF("alpha", 0.5f), AF("beta", 2.0f)),
    GEMM("gemm_beta0", 0, D(5), 1, AF("beta", 0.0f)),
    {.name = "gemm_transA", .op = "Gemm", .n_in = 3, .n_out = 1, .in = {D(4, 3), D(4, 5), D(5)},
     .n_attrs = 2, .attrs = {AI("transA", 1), AF("alpha", 1.5f)}},
    {.name = "gemm_transB", .op = "Gemm", .n_in = 3, .n_out = 1, .in = {D(3, 4), D(5, 4), D(5)},
     .n_attrs = 1, .attrs = {AI("transB", 1)}},
    {.name = "gemm_transA_transB", .op = "Gemm", .n_in = 3, .n_out = 1, .in = {D(4, 3), D(5, 4), D(3, 5)},
     .n_attrs = 4, .attrs = {AI("transA", 1), AI("transB", 1), AF("alpha", -0.7f), AF("beta", 0.3f)}},
    {.name = "gemm_no_c_opset13", .op = "Gemm", .opset = 13, .n_in = 2, .n_out = 1, .in = {D(3, 4), D(5, 4)},
     .n_attrs = 1, .attrs = {AI("transB", 1)}},
    {.name = "gemm_opset9_c_required", .op = "Gemm", .opset = 9, .n_in = 3, .n_out = 1, .in = {D(4, 3), D(4, 5), D(5)},
     .n_attrs = 2, .attrs = {AI("transA", 1), AF("alpha", 2.0f)}},
    {.name = "gemm_opset7_transB", .op = "Gemm", .opset = 7, .n_in = 3, .n_out = 1, .in = {D(3, 4), D(5, 4), D(1, 5)},
     .n_attrs = 1, .attrs = {AI("transB", 1)}},
    {.name = "gemm_weights_frozen", .op = "Gemm", .n_in = 3, .n_out = 1, .in = {D(3, 4), ND(5, 4), D(5)},
     .n_attrs = 1, .attrs = {AI("transB", 1)}},
};

static const gc_case einsum_cases[] = {
    EIN("einsum_bmm", "bij,bjk->bik", 2, D(2, 3, 4), D(2, 4, 2)),
    EIN("einsum_attn_scores", "bhqd,bhkd->bhqk", 2, D(1, 2, 3, 4), D(1, 2, 5, 4)),
    EIN("einsum_attn_values", "bhqk,bhkd->bhqd", 2, D(1, 2, 3, 5), D(1, 2, 5, 4)),
    EIN("einsum_transpose", "ij->ji", 1, D(3, 4)),
    EIN("einsum_rowsum", "ij->i", 1, D(3, 4)),
    EIN("einsum_outer", "i,j->ij", 2, D(3), D(4)),
    EIN("einsum_diag", "ii->i", 1, D(3, 3)),
    EIN("einsum_trace", "ii->", 1, D(3, 3)),
    EIN("einsum_total", "ij->", 1, D(2, 3)),
    EIN("einsum_dot", "i,i->", 2, D(4), D(4)),
    EIN("einsum_frobenius", "ij,ij->", 2, D(2, 3), D(2, 3)),
    EIN("einsum_bilinear", "bn,anm,bm->ba", 3, D(2, 3), D(4, 3, 2), D(2, 2)),
    EIN("einsum_ellipsis_bmm", "...ij,...jk->...ik", 2, D(2, 3, 4), D(4, 2)),
    EIN("einsum_ellipsis_bcast", "...ij,...jk->...ik", 2, D(2, 1, 3, 4), D(3, 4, 2)),
    EIN("einsum_size1_bcast", "ij,ij->ij", 2, D(1, 3), D(2, 3)),
    EIN("einsum_diag_mixed", "iij,jk->ik", 2, D(3, 3, 2), D(2, 4)),
    EIN("einsum_lonely_and_kept", "ijk,jl->il", 2, D(2, 3, 4), D(3, 2)),
    EIN("einsum_upper_letters", "Ab,bC->AC", 2, D(2, 3), D(3, 2)),
    EIN("einsum_perm3", "ijk->kij", 1, D(2, 3, 4)),
    EIN("einsum_implicit_mm", "ij,jk", 2, D(2, 3), D(3, 4)),
    EIN("einsum_ellipsis_colsum", "...ij->...j", 1, D(2, 3, 4)),
    EIN("einsum_ellipsis_front", "i...->...", 1, D(3, 2, 2)),
    EIN("einsum_same_operand_twice_shape", "ij,ik->jk", 2, D(4, 2), D(4, 3)),
    EIN("einsum_three_way_diag", "iii->i", 1, D(3, 3, 3)),
};

#define CONV(nm, x, w, b, na, ...) {.name = nm, .op = "Conv", .n_in = 3, .n_out = 1, .in = {x, w, b}, \
                                    .n_attrs = na, .attrs = {__VA_ARGS__}}
#define CT(nm, x, w, b, na, ...) {.name = nm, .op = "ConvTranspose", .n_in = 3, .n_out = 1, .in = {x, w, b}, \
                                  .n_attrs = na, .attrs = {__VA_ARGS__}}
#define NOB {GC_ABSENT, 0, 0, {0}}

static const gc_case conv_cases[] = {
    CONV("conv2d_bias", D(2, 2, 5, 5), D(3, 2, 3, 3), D(3), 0, AI("group", 1)),
    CONV("conv2d_no_bias_pads", D(1, 2, 4, 5), D(2, 2, 3, 3), NOB, 1, AL("pads", 1, 1, 1, 1)),
    CONV("conv2d_asym_pads_stride", D(1, 2, 6, 5), D(2, 2, 3, 2), D(2), 2, AL("pads", 0, 1, 2, 0), AL("strides", 2, 1)),
    CONV("conv2d_stride_floor", D(1, 1, 7, 6), D(2, 1, 3, 3), D(2), 1, AL("strides", 2, 2)),
    CONV("conv2d_dilation", D(1, 2, 7, 7), D(2, 2, 3, 3), D(2), 2, AL("dilations", 2, 2), AL("pads", 1, 2, 1, 0)),
    CONV("conv2d_groups", D(2, 4, 5, 5), D(6, 2, 3, 3), D(6), 1, AI("group", 2)),
    CONV("conv2d_depthwise", D(2, 3, 5, 5), D(3, 1, 3, 3), D(3), 2, AI("group", 3), AL("pads", 1, 1, 1, 1)),
    CONV("conv2d_depthwise_mult", D(1, 2, 5, 4), D(4, 1, 3, 2), D(4), 2, AI("group", 2), AL("strides", 2, 1)),
    CONV("conv2d_1x1_identity", D(2, 3, 4, 4), D(5, 3, 1, 1), D(5), 0, AI("group", 1)),
    CONV("conv2d_same_upper", D(1, 2, 5, 6), D(2, 2, 3, 4), D(2), 2, AS("auto_pad", "SAME_UPPER"), AL("strides", 2, 2)),
    CONV("conv2d_same_lower", D(1, 2, 5, 6), D(2, 2, 2, 3), D(2), 1, AS("auto_pad", "SAME_LOWER")),
    CONV("conv2d_valid", D(1, 2, 5, 6), D(2, 2, 3, 3), D(2), 2, AS("auto_pad", "VALID"), AL("pads", 0, 0, 0, 0)),
    CONV("conv1d_stride_pads", D(2, 2, 9), D(3, 2, 3), D(3), 2, AL("strides", 2), AL("pads", 1, 2)),
    CONV("conv1d_dilation_groups", D(1, 4, 10), D(4, 2, 3), D(4), 2, AL("dilations", 3), AI("group", 2)),
    CONV("conv3d", D(1, 2, 4, 4, 3), D(2, 2, 2, 3, 2), D(2), 2, AL("pads", 1, 0, 1, 0, 1, 0), AL("strides", 1, 2, 1)),
    CONV("conv2d_kernel_shape_attr", D(1, 1, 4, 4), D(2, 1, 2, 2), D(2), 1, AL("kernel_shape", 2, 2)),
    CONV("conv2d_bias_only", ND(2, 2, 4, 4), ND(3, 2, 3, 3), D(3), 0, AI("group", 1)),
    CONV("conv2d_input_only", D(1, 2, 4, 4), ND(3, 2, 3, 3), NOB, 0, AI("group", 1)),
    CONV("conv2d_weight_only", ND(2, 2, 4, 4), D(3, 2, 3, 3), ND(3), 0, AI("group", 1)),
    CT("convT2d_bias", D(1, 2, 3, 3), D(2, 3, 3, 3), D(3), 0, AI("group", 1)),
    CT("convT2d_stride_pads", D(2, 2, 3, 4), D(2, 2, 3, 3), D(2), 2, AL("strides", 2, 2), AL("pads", 1, 0, 1, 1)),
    CT("convT2d_output_padding", D(1, 2, 3, 3), D(2, 1, 3, 3), D(1), 2, AL("strides", 2, 3), AL("output_padding", 1, 2)),
    CT("convT2d_output_shape", D(1, 1, 3, 3), D(1, 2, 3, 3), D(2), 2, AL("strides", 2, 2), AL("output_shape", 8, 7)),
    CT("convT2d_output_shape_big", D(1, 1, 3, 3), D(1, 1, 2, 2), NOB, 2, AL("strides", 2, 2), AL("output_shape", 8, 9)),
    CT("convT2d_same_upper", D(1, 2, 3, 3), D(2, 2, 3, 3), D(2), 2, AS("auto_pad", "SAME_UPPER"), AL("strides", 2, 2)),
    CT("convT2d_same_lower", D(1, 1, 3, 4), D(1, 2, 2, 3), D(2), 2, AS("auto_pad", "SAME_LOWER"), AL("strides", 2, 1)),
    CT("convT2d_groups_dilation", D(1, 4, 3, 3), D(4, 1, 2, 2), D(2), 2, AI("group", 2), AL("dilations", 2, 1)),
    CT("convT2d_depthwise", D(1, 3, 3, 3), D(3, 1, 3, 3), D(3), 2, AI("group", 3), AL("strides", 2, 2)),
    CT("convT1d", D(2, 2, 4), D(2, 3, 3), D(3), 2, AL("strides", 3), AL("pads", 1, 1)),
    CT("convT3d", D(1, 2, 2, 3, 2), D(2, 2, 2, 2, 2), D(2), 1, AL("strides", 2, 1, 2)),
    CT("convT2d_1x1", D(1, 3, 3, 3), D(3, 2, 1, 1), D(2), 0, AI("group", 1)),
    CT("convT2d_bias_only", ND(1, 2, 3, 3), ND(2, 3, 3, 3), D(3), 0, AI("group", 1)),
};

/* ---- float32 kernels at sizes that take the threaded and tiled paths ----
 * The gradchecks above run in float64 on tiny shapes; here the float32 and
 * float64 gradient kernels run on larger 2-D convolutions (per-thread
 * partial weight gradients, column tiles, the depthwise direct loops) and
 * are compared with a naive float64 reference. */

typedef struct kcase {
    const char *name;
    int64_t N, C, M, H, W, kh, kw, s, d, p, G;
} kcase;

static uint64_t kc_state = 88172645463325252ull;
static double kc_rand(void) {
    kc_state ^= kc_state << 13;
    kc_state ^= kc_state >> 7;
    kc_state ^= kc_state << 17;
    return (double)(kc_state >> 11) / 9007199254740992.0 * 2 - 1;
}

static int kernel_case(const kcase *k) {
    ot_conv_geom g = {0};
    g.n = 2;
    int64_t ks[2] = {k->kh, k->kw}, in[2] = {k->H, k->W};
    for (int i = 0; i < 2; i++) {
        g.img[i] = in[i];
        g.kernel[i] = ks[i];
        g.stride[i] = k->s;
        g.dilation[i] = k->d;
        g.pad[i] = k->p;
        g.col[i] = (in[i] + 2 * k->p - (ks[i] - 1) * k->d - 1) / k->s + 1;
    }
    ot_conv_geom_finish(&g);
    int64_t Cg = k->C / k->G, Mg = k->M / k->G, nx = k->N * k->C * g.img_size, ny = k->N * k->M * g.col_size;
    int64_t nw = k->M * Cg * g.kernel_size;
    double *x = ot_malloc(sizeof(double) * (size_t)nx), *dy = ot_malloc(sizeof(double) * (size_t)ny);
    double *w = ot_malloc(sizeof(double) * (size_t)nw), *rdx = ot_calloc((size_t)nx, sizeof(double));
    double *rdw = ot_calloc((size_t)nw, sizeof(double)), *rdb = ot_calloc((size_t)k->M, sizeof(double));
    double *ddx = ot_malloc(sizeof(double) * (size_t)nx), *ddw = ot_malloc(sizeof(double) * (size_t)nw);
    double *ddb = ot_malloc(sizeof(double) * (size_t)k->M);
    float *fx = ot_malloc(sizeof(float) * (size_t)nx), *fdy = ot_malloc(sizeof(float) * (size_t)ny);
    float *fw = ot_malloc(sizeof(float) * (size_t)nw), *fdx = ot_malloc(sizeof(float) * (size_t)nx);
    float *fdw = ot_malloc(sizeof(float) * (size_t)nw), *fdb = ot_malloc(sizeof(float) * (size_t)k->M);
    for (int64_t i = 0; i < nx; i++) fx[i] = (float)(x[i] = kc_rand());
    for (int64_t i = 0; i < ny; i++) fdy[i] = (float)(dy[i] = kc_rand());
    for (int64_t i = 0; i < nw; i++) fw[i] = (float)(w[i] = kc_rand());
    /* naive reference: every (n, m, oy, ox, c, ky, kx) term of the forward */
    int64_t OH = g.col[0], OW = g.col[1];
    for (int64_t n = 0; n < k->N; n++)
        for (int64_t m = 0; m < k->M; m++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double gy = dy[((n * k->M + m) * OH + oy) * OW + ox];
                    rdb[m] += gy;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t ky = 0; ky < k->kh; ky++)
                            for (int64_t kx = 0; kx < k->kw; kx++) {
                                int64_t iy = oy * k->s - k->p + ky * k->d, ix = ox * k->s - k->p + kx * k->d;
                                if (iy < 0 || iy >= k->H || ix < 0 || ix >= k->W) continue;
                                int64_t ci = m / Mg * Cg + c;
                                int64_t xi = ((n * k->C + ci) * k->H + iy) * k->W + ix;
                                int64_t wi = ((m * Cg + c) * k->kh + ky) * k->kw + kx;
                                rdx[xi] += gy * w[wi];
                                rdw[wi] += gy * x[xi];
                            }
                }
    int bad = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool f = pass == 0;
        ot_status s1 = ot_conv_transpose_forward(f ? OT_FLOAT : OT_DOUBLE, &g, k->N, k->M, k->C, k->G,
                                                 f ? (void *)fdy : (void *)dy, f ? (void *)fw : (void *)w, NULL,
                                                 f ? (void *)fdx : (void *)ddx);
        ot_status s2 = ot_conv_weight_grad(f ? OT_FLOAT : OT_DOUBLE, &g, k->N, k->C, k->M, k->G,
                                           f ? (void *)fx : (void *)x, f ? (void *)fdy : (void *)dy,
                                           f ? (void *)fdw : (void *)ddw);
        ot_conv_bias_grad(f ? OT_FLOAT : OT_DOUBLE, k->N, k->M, g.col_size, f ? (void *)fdy : (void *)dy,
                          f ? (void *)fdb : (void *)ddb);
        if (s1 || s2) {
            printf("%s: kernel error %s\n", k->name, ot_last_error());
            bad++;
            continue;
        }
        double tol = f ? 2e-4 : 1e-10;
        const double *ref[3] = {rdx, rdw, rdb};
        int64_t cnt[3] = {nx, nw, k->M};
        const char *what[3] = {"dX", "dW", "dB"};
        for (int t = 0; t < 3; t++)
            for (int64_t i = 0; i < cnt[t]; i++) {
                double got = f ? (t == 0 ? fdx[i] : t == 1 ? fdw[i] : fdb[i]) : (t == 0 ? ddx[i] : t == 1 ? ddw[i] : ddb[i]);
                double scale = fabs(ref[t][i]) + sqrt((double)(t == 0 ? k->M * 9 : k->N * g.col_size)) * 0.1;
                if (fabs(got - ref[t][i]) > tol * scale) {
                    if (bad < 3)
                        printf("%s (%s): %s[%lld] = %.8g, reference %.8g\n", k->name, f ? "float" : "double",
                               what[t], (long long)i, got, ref[t][i]);
                    bad++;
                }
            }
    }
    void *bufs[] = {x, dy, w, rdx, rdw, rdb, ddx, ddw, ddb, fx, fdy, fw, fdx, fdw, fdb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ot_free(bufs[i]);
    return bad ? 1 : 0;
}

static const kcase kernel_cases[] = {
    {"kern_partials_groups", 8, 8, 6, 12, 12, 3, 3, 1, 1, 1, 2},
    {"kern_tiles_one_image", 1, 64, 8, 64, 64, 3, 3, 1, 1, 1, 1},
    {"kern_stride2_dilation", 3, 6, 4, 17, 15, 3, 2, 2, 2, 2, 1},
    {"kern_depthwise", 2, 16, 16, 20, 20, 3, 3, 2, 1, 1, 16},
    {"kern_depthwise_mult2", 2, 8, 16, 19, 21, 5, 3, 1, 1, 2, 8},
    {"kern_1x1", 4, 32, 16, 10, 10, 1, 1, 1, 1, 0, 1},
};

/* ---- the gradient ops' shape checks ---- */

/* Infers ConvGradWeight(dY, X) with pads (p, p, p, e): 0 when infer
   accepts and gives dW (4, 2, 3, 3) and dB (4), else its status. */
static ot_status cgw_infer(const int64_t *dy_dims, int64_t end_pad) {
    ot_graph *g;
    OT_TRY(ot_graph_new("t", &g));
    int ids[4], node;
    const char *names[4] = {"dy", "x", "dw", "db"};
    for (int i = 0; i < 4; i++) ot_graph_value(g, names[i], &ids[i]);
    ot_graph_add_node(g, "ConvGradWeight", OT_DOMAIN_TRAIN, "n0", 2, ids, 2, ids + 2, &node);
    const int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, end_pad};
    const char *an[2] = {"kernel_shape", "pads"};
    const int64_t *av[2] = {k, pads};
    for (int i = 0; i < 2; i++) {
        ot_attr *a;
        ot_node_add_attr(g, node, an[i], OT_ATTR_INTS, &a);
        a->n = i ? 4 : 2;
        a->ints = ot_malloc(sizeof(int64_t) * 4);
        memcpy(a->ints, av[i], sizeof(int64_t) * (size_t)a->n);
    }
    const ot_op_def *d = ot_op_find(OT_DOMAIN_TRAIN, "ConvGradWeight");
    ot_conv_grad_attrs at;
    ot_tensor tdy = {0}, tx = {0}, tw = {0}, tb = {0};
    int64_t xd[4] = {2, 2, 5, 5};
    ot_tensor_set_shape(&tdy, OT_FLOAT, 4, dy_dims);
    ot_tensor_set_shape(&tx, OT_FLOAT, 4, xd);
    ot_tensor *in[2] = {&tdy, &tx}, *out[2] = {&tw, &tb};
    ot_status s = d ? d->parse(&g->nodes[node], 1, &at) : OT_ERR_INTERNAL;
    ot_kctx c = {.node = &g->nodes[node], .name = "n0", .opset = 1, .attrs = &at, .n_in = 2, .in = in, .n_out = 2,
                 .out = out};
    if (!s) s = d->infer(&c);
    int64_t want_w[4] = {4, 2, 3, 3}, want_b[1] = {4};
    if (!s && (!ot_shape_equal(tw.rank, tw.dims, 4, want_w) || !ot_shape_equal(tb.rank, tb.dims, 1, want_b)))
        s = OT_ERR_INTERNAL;
    ot_graph_free(g);
    return s;
}

static int infer_checks(void) {
    int bad = 0;
    const int64_t ok[4] = {2, 4, 5, 5}, wrong_size[4] = {2, 4, 4, 5}, wrong_batch[4] = {3, 4, 5, 5};
    if (cgw_infer(ok, 1) != OT_OK) printf("ConvGradWeight: valid geometry rejected: %s\n", ot_last_error()), bad++;
    if (cgw_infer(wrong_size, 1) != OT_ERR_SHAPE) printf("ConvGradWeight: dY of the wrong size accepted\n"), bad++;
    if (cgw_infer(ok, 3) != OT_ERR_SHAPE) printf("ConvGradWeight: inconsistent end pad accepted\n"), bad++;
    if (cgw_infer(wrong_batch, 1) != OT_ERR_SHAPE) printf("ConvGradWeight: batch mismatch accepted\n"), bad++;
    printf("%d passed, %d failed (gradient op shape checks)\n", 4 - bad, bad);
    return bad;
}

int main(void) {
    int failed = infer_checks(), kfail = 0, nk = (int)(sizeof kernel_cases / sizeof kernel_cases[0]);
    for (int i = 0; i < nk; i++) kfail += kernel_case(&kernel_cases[i]);
    printf("%d passed, %d failed (float32/float64 kernels, %d threads)\n", nk - kfail, kfail, omp_get_max_threads());
    failed += kfail;
    failed += gc_run_all(mm_cases, sizeof mm_cases / sizeof mm_cases[0]);
    failed += gc_run_all(gemm_cases, sizeof gemm_cases / sizeof gemm_cases[0]);
    failed += gc_run_all(einsum_cases, sizeof einsum_cases / sizeof einsum_cases[0]);
    failed += gc_run_all(conv_cases, sizeof conv_cases / sizeof conv_cases[0]);
    return failed ? 1 : 0;
}
