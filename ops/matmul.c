/* Op family: matmul — MatMul (numpy matmul), Gemm and Einsum, and
 * ai.onnxtrain FusedMatMul (MatMul with transposed operands, for gradients).
 * Gradient rules: ops/matmul_grad.c.
 * Kernels: kernels/cpu/matmul.c (BLAS), kernels/cpu/einsum.c. */
#include <string.h>

#include "matmul_ops.h"
#include "kernels/cpu/einsum.h"
#include "kernels/cpu/matmul.h"
#include "src/core/alloc.h"
#include "src/runtime/workspace.h"

static const ot_dtype mm_types[] = {OT_FLOAT16, OT_FLOAT, OT_DOUBLE, OT_UINT32, OT_UINT64,
                                    OT_INT32, OT_INT64, OT_BFLOAT16, OT_UNDEFINED};

static bool is_half(ot_dtype t) { return t == OT_FLOAT16 || t == OT_BFLOAT16; }

static ot_status same_dtype(ot_kctx *c, int i, int j) {
    const ot_tensor *a = ot_in(c, i), *b = ot_in(c, j);
    if (a && b && a->dtype != b->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "inputs %d and %d must have the same type (%s vs %s)", i, j,
                           ot_dtype_name(a->dtype), ot_dtype_name(b->dtype));
    return OT_OK;
}

static ot_status blas_dims(ot_kctx *c, int64_t M, int64_t N, int64_t K) {
    if (!ot_blas_fits(M) || !ot_blas_fits(N) || !ot_blas_fits(K))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "matrix dims (M=%lld, N=%lld, K=%lld) exceed the 32-bit BLAS limit",
                           (long long)M, (long long)N, (long long)K);
    return OT_OK;
}

/* float16/bfloat16 inputs are computed in float32: n_in copies, one result. */
typedef struct f32_scratch {
    float *in[3];
    float *out;
} f32_scratch;

static void scratch_free(f32_scratch *s) {
    for (int i = 0; i < 3; i++) ot_workspace_free(s->in[i]);
    ot_workspace_free(s->out);
}

static ot_status scratch_widen(ot_kctx *c, f32_scratch *s, int n_in) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n_in; i++) {
        const ot_tensor *t = ot_in(c, i);
        if (!t) continue;
        int64_t n = ot_tensor_numel(t);
        s->in[i] = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
        if (!s->in[i]) break;
        ot_half_to_f32(t->dtype, t->data, s->in[i], n);
    }
    int64_t n = ot_tensor_numel(ot_out(c, 0));
    s->out = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
    for (int i = 0; i < n_in; i++)
        if (ot_in(c, i) && !s->in[i]) s->out = (ot_workspace_free(s->out), NULL);
    if (!s->out) {
        scratch_free(s);
        return ot_op_error(c, OT_ERR_NOMEM, "out of memory for float32 copies of half-precision tensors");
    }
    return OT_OK;
}

/* ======================= MatMul ======================= */

/* numpy matmul geometry: 1-D A is (1, K) and 1-D B is (K, 1), their unit
   dim removed from the output; batch dims broadcast. */
typedef struct mm_geom {
    int64_t M, N, K, batch;
    int out_rank;
    int64_t out[OT_MAX_RANK];
    int nb;                          /* broadcast batch rank */
    int64_t bdims[OT_MAX_RANK];
    int64_t a_str[OT_MAX_RANK];      /* per batch dim, in matrices of A (0: broadcast) */
    int64_t b_str[OT_MAX_RANK];
} mm_geom;

/* ta / tb (FusedMatMul): A's / B's last two dims are swapped, so A is
   (..., K, M) and B (..., N, K); both then need rank >= 2. */
static ot_status mm_geometry(ot_kctx *c, bool ta, bool tb, mm_geom *g) {
    const ot_tensor *a = ot_in(c, 0), *b = ot_in(c, 1);
    char sa[128], sb[128];
    if (a->rank < 1 || b->rank < 1)
        return ot_op_error(c, OT_ERR_SHAPE, "inputs must have rank >= 1 (got %d and %d)", a->rank, b->rank);
    int ra = a->rank, rb = b->rank;
    if ((ta && ra < 2) || (tb && rb < 2))
        return ot_op_error(c, OT_ERR_SHAPE, "a transposed operand must have rank >= 2 (got ranks %d and %d)", ra, rb);
    g->M = ra >= 2 ? a->dims[ra - 2 + ta] : 1;
    g->K = a->dims[ra - 1 - ta];
    int64_t kb = rb >= 2 ? b->dims[rb - 2 + tb] : b->dims[0];
    g->N = rb >= 2 ? b->dims[rb - 1 - tb] : 1;
    if (kb != g->K)
        return ot_op_error(c, OT_ERR_SHAPE, "inner dims differ: A %s, B %s", ot_shape_str(ra, a->dims, sa, sizeof sa),
                           ot_shape_str(rb, b->dims, sb, sizeof sb));
    int na = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
    if (ot_shape_broadcast(na, a->dims, nbb, b->dims, &g->nb, g->bdims) != OT_OK)
        return ot_op_error(c, OT_ERR_SHAPE, "batch dims of A %s and B %s do not broadcast",
                           ot_shape_str(ra, a->dims, sa, sizeof sa), ot_shape_str(rb, b->dims, sb, sizeof sb));
    int64_t sta[OT_MAX_RANK], stb[OT_MAX_RANK];
    ot_shape_broadcast_strides(na, a->dims, g->nb, g->bdims, sta);
    ot_shape_broadcast_strides(nbb, b->dims, g->nb, g->bdims, stb);
    for (int i = 0; i < g->nb; i++) {
        g->a_str[i] = sta[i];
        g->b_str[i] = stb[i];
    }
    g->out_rank = 0;
    for (int i = 0; i < g->nb; i++) g->out[g->out_rank++] = g->bdims[i];
    if (ra >= 2) g->out[g->out_rank++] = g->M;
    if (rb >= 2) g->out[g->out_rank++] = g->N;
    int64_t n;
    OT_TRY(ot_shape_numel(g->nb, g->bdims, &g->batch));
    OT_TRY(ot_shape_numel(g->out_rank, g->out, &n));
    return blas_dims(c, g->M, g->N, g->K);
}

/* FusedMatMul (ai.onnxtrain): MatMul of op(A) and op(B), op swapping the
   last two dims when transA / transB is set.  Emitted by the MatMul gradient
   so that A^T B and A B^T need no Transpose node: the BLAS reads the
   operands transposed in place. */
static ot_status fmm_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    fmm_attrs *a = out;
    int64_t ta, tb;
    OT_TRY(ot_attr_get_int(n, "transA", 0, &ta));
    OT_TRY(ot_attr_get_int(n, "transB", 0, &tb));
    a->ta = ta != 0;
    a->tb = tb != 0;
    return OT_OK;
}

static void mm_trans(const ot_kctx *c, bool *ta, bool *tb) {
    const fmm_attrs *a = c->attrs;
    *ta = a && a->ta;
    *tb = a && a->tb;
}

static ot_status matmul_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, mm_types));
    OT_TRY(same_dtype(c, 0, 1));
    mm_geom g;
    bool ta, tb;
    mm_trans(c, &ta, &tb);
    OT_TRY(mm_geometry(c, ta, tb, &g));
    ot_set_out(c, 0, ot_in(c, 0)->dtype, g.out_rank, g.out);
    return OT_OK;
}

/* True when a batch stride list is that of back-to-back matrices (in units of
   matrices) or all zero: then one stride describes the whole batch. */
static bool uniform_stride(const mm_geom *g, const int64_t *str, int64_t *stride) {
    bool zero = true, dense = true;
    int64_t s = 1;
    for (int i = g->nb - 1; i >= 0; i--) {
        if (g->bdims[i] == 1) continue;
        if (str[i] != 0) zero = false;
        if (str[i] != s) dense = false;
        s *= g->bdims[i];
    }
    *stride = zero ? 0 : 1;
    return zero || dense;
}

static ot_status matmul_run(ot_kctx *c, const void *A, const void *B, void *C, ot_dtype dt) {
    mm_geom g;
    bool ta, tb;
    mm_trans(c, &ta, &tb);
    OT_TRY(mm_geometry(c, ta, tb, &g));
    int64_t sa, sb;
    bool ua = uniform_stride(&g, g.a_str, &sa), ub = uniform_stride(&g, g.b_str, &sb);
    if (ua && ub)
        return ot_matmul_batched(dt, ta, tb, g.batch, NULL, sa * g.M * g.K, NULL, sb * g.K * g.N, g.M, g.N,
                                 g.K, A, B, C);
    int64_t *off = ot_workspace_alloc((size_t)g.batch * 2 * sizeof *off);
    if (!off) return ot_op_error(c, OT_ERR_NOMEM, "out of memory for %lld batch offsets", (long long)g.batch);
    int64_t idx[OT_MAX_RANK] = {0}, ao = 0, bo = 0;
    for (int64_t b = 0; b < g.batch; b++) {
        off[b] = ao * g.M * g.K;
        off[g.batch + b] = bo * g.K * g.N;
        for (int i = g.nb - 1; i >= 0; i--) { /* odometer over the batch dims */
            ao += g.a_str[i];
            bo += g.b_str[i];
            if (++idx[i] < g.bdims[i]) break;
            ao -= g.a_str[i] * g.bdims[i];
            bo -= g.b_str[i] * g.bdims[i];
            idx[i] = 0;
        }
    }
    ot_status s = ot_matmul_batched(dt, ta, tb, g.batch, off, 0, off + g.batch, 0, g.M, g.N, g.K, A, B, C);
    ot_workspace_free(off);
    return s;
}

static ot_status matmul_cpu(ot_kctx *c) {
    ot_tensor *y = ot_out(c, 0);
    ot_dtype dt = y->dtype;
    if (!is_half(dt)) return matmul_run(c, ot_in(c, 0)->data, ot_in(c, 1)->data, y->data, dt);
    f32_scratch s;
    OT_TRY(scratch_widen(c, &s, 2));
    ot_status st = matmul_run(c, s.in[0], s.in[1], s.out, OT_FLOAT);
    if (st == OT_OK) ot_f32_to_half(dt, s.out, y->data, ot_tensor_numel(y));
    scratch_free(&s);
    return st;
}

/* ======================= MatMulInteger ======================= */

static const ot_dtype q8_types[] = {OT_INT8, OT_UINT8, OT_UNDEFINED};

/* Index into a zero point for element i of A (per row) or B (per column);
 * a zero point is a scalar, one value per row of A / column of B, or one per
 * row / column of every batch matrix ([..., M, 1] / [..., 1, N]).  Returns
 * -1 for a layout that fits none. */
typedef struct zp_map {
    int64_t div, mod, mul, mod2; /* idx = ((i / div) % mod) * mul + i % mod2 */
} zp_map;

static ot_status zp_layout(ot_kctx *c, int zi, bool rows, const mm_geom *g, zp_map *m) {
    const ot_tensor *zp = ot_in(c, zi), *x = ot_in(c, rows ? 0 : 1);
    int64_t z = zp ? ot_tensor_numel(zp) : 1, n = ot_tensor_numel(x), mat = rows ? g->M : g->N;
    int64_t bsz = rows ? g->M * g->K : g->K * g->N, batches = bsz ? n / bsz : 0;
    *m = (zp_map){1, 1, 0, 1};
    if (z == 1) return OT_OK;
    if (rows && (z == mat || z == batches * mat)) *m = (zp_map){g->K, z, 1, 1};
    else if (!rows && z == mat) *m = (zp_map){1, 1, 0, g->N};
    else if (!rows && z == batches * mat) *m = (zp_map){bsz, batches, g->N, g->N};
    else return ot_op_error(c, OT_ERR_SHAPE, "zero point input %d has %lld values: expected 1 or one per %s", zi,
                            (long long)z, rows ? "row of A" : "column of B");
    return OT_OK;
}

static ot_status mmi_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, q8_types));
    OT_TRY(ot_check_dtype(c, 1, q8_types));
    OT_TRY(same_dtype(c, 0, 2));
    OT_TRY(same_dtype(c, 1, 3));
    mm_geom g;
    zp_map m;
    OT_TRY(mm_geometry(c, false, false, &g));
    OT_TRY(zp_layout(c, 2, true, &g, &m));
    OT_TRY(zp_layout(c, 3, false, &g, &m));
    ot_set_out(c, 0, OT_INT32, g.out_rank, g.out);
    return OT_OK;
}

/* Exact in float64 (8-bit products summed need far fewer than 53 bits), so
   the product runs through dgemm. */
static ot_status mmi_cpu(ot_kctx *c) {
    mm_geom g;
    OT_TRY(mm_geometry(c, false, false, &g));
    ot_tensor *y = ot_out(c, 0);
    double *d[3] = {0};
    int64_t n[3] = {ot_tensor_numel(ot_in(c, 0)), ot_tensor_numel(ot_in(c, 1)), ot_tensor_numel(y)};
    for (int i = 0; i < 3; i++) d[i] = ot_workspace_alloc((size_t)(n[i] ? n[i] : 1) * sizeof(double));
    ot_status s = d[0] && d[1] && d[2] ? OT_OK : ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    for (int t = 0; t < 2 && s == OT_OK; t++) {
        const ot_tensor *x = ot_in(c, t), *zp = ot_in(c, 2 + t);
        zp_map m;
        s = zp_layout(c, 2 + t, t == 0, &g, &m);
        for (int64_t i = 0; i < n[t] && s == OT_OK; i++) {
            int64_t zi = ((i / m.div) % m.mod) * m.mul + i % m.mod2;
            d[t][i] = (double)(ot_load_i64(x->dtype, x->data, i) - (zp ? ot_load_i64(zp->dtype, zp->data, zi) : 0));
        }
    }
    if (s == OT_OK) s = matmul_run(c, d[0], d[1], d[2], OT_DOUBLE);
    if (s == OT_OK)
        for (int64_t i = 0; i < n[2]; i++) ((int32_t *)y->data)[i] = (int32_t)(int64_t)d[2][i];
    for (int i = 0; i < 3; i++) ot_workspace_free(d[i]);
    return s;
}

/* ======================= Gemm ======================= */

static ot_status gemm_parse(const ot_node *n, int64_t opset, void *out) {
    gemm_attrs *a = out;
    int64_t ta, tb, bc;
    OT_TRY(ot_attr_get_int(n, "broadcast", opset < 7 ? 0 : 1, &bc));
    if (opset >= 7 && ot_node_attr(n, "broadcast"))
        return ot_error(OT_ERR_PARSE, "Gemm node '%s': attribute 'broadcast' was removed in opset 7",
                        n->name ? n->name : "");
    a->broadcast = bc != 0;
    OT_TRY(ot_attr_get_float(n, "alpha", 1.0f, &a->alpha));
    OT_TRY(ot_attr_get_float(n, "beta", 1.0f, &a->beta));
    OT_TRY(ot_attr_get_int(n, "transA", 0, &ta));
    OT_TRY(ot_attr_get_int(n, "transB", 0, &tb));
    a->trans_a = ta != 0;
    a->trans_b = tb != 0;
    return OT_OK;
}

static ot_status gemm_infer(ot_kctx *c) {
    const gemm_attrs *at = c->attrs;
    OT_TRY(ot_check_dtype(c, 0, mm_types));
    OT_TRY(same_dtype(c, 0, 1));
    OT_TRY(same_dtype(c, 0, 2));
    const ot_tensor *a = ot_in(c, 0), *b = ot_in(c, 1), *cc = ot_in(c, 2);
    if (!ot_dtype_is_float(a->dtype) && c->opset < 9)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "integer Gemm needs opset >= 9 (model has %lld)", (long long)c->opset);
    if (!cc && c->opset < 11) return ot_op_error(c, OT_ERR_SHAPE, "input C is required before opset 11");
    if (a->rank != 2 || b->rank != 2)
        return ot_op_error(c, OT_ERR_SHAPE, "A and B must be 2-D (got ranks %d and %d)", a->rank, b->rank);
    int64_t M = at->trans_a ? a->dims[1] : a->dims[0], K = at->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = at->trans_b ? b->dims[1] : b->dims[0], N = at->trans_b ? b->dims[0] : b->dims[1];
    if (K != kb)
        return ot_op_error(c, OT_ERR_SHAPE, "inner dims differ: op(A) is (%lld, %lld), op(B) is (%lld, %lld)",
                           (long long)M, (long long)K, (long long)kb, (long long)N);
    OT_TRY(blas_dims(c, M, N, K));
    int64_t y[2] = {M, N};
    if (cc) { /* unidirectional broadcast of C to (M, N) */
        bool ok = cc->rank <= 2;
        for (int i = 0; ok && i < cc->rank; i++) {
            int64_t d = cc->dims[cc->rank - 1 - i], t = y[1 - i];
            ok = d == t || (d == 1 && at->broadcast);
        }
        if (!at->broadcast) ok = cc->rank == 2 && cc->dims[0] == M && cc->dims[1] == N;
        char s[128];
        if (!ok)
            return ot_op_error(c, OT_ERR_SHAPE, "C %s does not broadcast to (%lld, %lld)",
                               ot_shape_str(cc->rank, cc->dims, s, sizeof s), (long long)M, (long long)N);
    }
    ot_set_out(c, 0, a->dtype, 2, y);
    return OT_OK;
}

/* Strides of C broadcast over (M, N): 0 on broadcast axes. */
static void gemm_c_strides(const ot_tensor *cc, int64_t *sm, int64_t *sn) {
    int64_t dm = cc->rank == 2 ? cc->dims[0] : 1, dn = cc->rank >= 1 ? cc->dims[cc->rank - 1] : 1;
    *sn = dn == 1 ? 0 : 1;
    *sm = dm == 1 ? 0 : dn;
}

#define GEMM_FLOAT(NAME, T, GEMM)                                                                         \
    static void NAME(const gemm_attrs *at, int64_t M, int64_t N, int64_t K, const T *A, const T *B,     \
                     const ot_tensor *cc, const T *C, T *Y) {                                             \
        T beta = 0;                                                                                       \
        if (C && at->beta != 0.0f) {                                                                      \
            int64_t sm, sn;                                                                               \
            gemm_c_strides(cc, &sm, &sn);                                                                 \
            for (int64_t i = 0; i < M; i++)                                                               \
                for (int64_t j = 0; j < N; j++) Y[i * N + j] = C[i * sm + j * sn];                        \
            beta = (T)at->beta;                                                                           \
        }                                                                                                 \
        GEMM(at->trans_a, at->trans_b, M, N, K, (T)at->alpha, A, at->trans_a ? M : K, B,                  \
             at->trans_b ? K : N, beta, Y, N);                                                            \
    }
GEMM_FLOAT(gemm_f32, float, ot_gemm_f32)
GEMM_FLOAT(gemm_f64, double, ot_gemm_f64)

/* Integer Gemm: exact (wrapping) when alpha = beta = 1, else computed in
   double and truncated like the reference's astype. */
static void gemm_int(const gemm_attrs *at, ot_dtype dt, int64_t M, int64_t N, int64_t K, const void *A,
                     const void *B, const ot_tensor *cc, void *Y) {
    bool wide = dt == OT_INT64 || dt == OT_UINT64;
    if (wide)
        ot_gemm_u64(at->trans_a, at->trans_b, M, N, K, A, at->trans_a ? M : K, B, at->trans_b ? K : N, Y, N);
    else
        ot_gemm_u32(at->trans_a, at->trans_b, M, N, K, A, at->trans_a ? M : K, B, at->trans_b ? K : N, Y, N);
    bool add_c = cc && at->beta != 0.0f;
    int64_t sm = 0, sn = 0;
    if (add_c) gemm_c_strides(cc, &sm, &sn);
    if (at->alpha == 1.0f && (!add_c || at->beta == 1.0f)) {
        if (!add_c) return;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int64_t k = i * N + j, ci = i * sm + j * sn;
                if (wide) ((uint64_t *)Y)[k] += ((const uint64_t *)cc->data)[ci];
                else ((uint32_t *)Y)[k] += ((const uint32_t *)cc->data)[ci];
            }
        return;
    }
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t k = i * N + j;
            double v = (double)ot_load_i64(dt, Y, k) * at->alpha;
            if (add_c) v += (double)ot_load_i64(dt, cc->data, i * sm + j * sn) * at->beta;
            ot_store_f64(dt, Y, k, v);
        }
}

static ot_status gemm_cpu(ot_kctx *c) {
    const gemm_attrs *at = c->attrs;
    const ot_tensor *a = ot_in(c, 0), *cc = ot_in(c, 2);
    ot_tensor *y = ot_out(c, 0);
    int64_t M = y->dims[0], N = y->dims[1], K = at->trans_a ? a->dims[0] : a->dims[1];
    switch (y->dtype) {
    case OT_FLOAT:
        gemm_f32(at, M, N, K, a->data, ot_in(c, 1)->data, cc, cc ? cc->data : NULL, y->data);
        return OT_OK;
    case OT_DOUBLE:
        gemm_f64(at, M, N, K, a->data, ot_in(c, 1)->data, cc, cc ? cc->data : NULL, y->data);
        return OT_OK;
    case OT_FLOAT16:
    case OT_BFLOAT16: {
        f32_scratch s;
        OT_TRY(scratch_widen(c, &s, 3));
        gemm_f32(at, M, N, K, s.in[0], s.in[1], cc, s.in[2], s.out);
        ot_f32_to_half(y->dtype, s.out, y->data, M * N);
        scratch_free(&s);
        return OT_OK;
    }
    default:
        gemm_int(at, y->dtype, M, N, K, a->data, ot_in(c, 1)->data, cc, y->data);
        return OT_OK;
    }
}

/* ======================= Einsum ======================= */

static ot_status einsum_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    const char *eq;
    OT_TRY(ot_attr_get_string(n, "equation", NULL, &eq));
    if (!eq) return ot_error(OT_ERR_PARSE, "Einsum node '%s': attribute 'equation' is required", n->name ? n->name : "");
    ot_status s = ot_einsum_parse(eq, out);
    if (s != OT_OK) return ot_error_context(s, "Einsum node '%s'", n->name ? n->name : "");
    return OT_OK;
}

static const ot_dtype einsum_types[] = {OT_UINT8, OT_UINT16, OT_UINT32, OT_UINT64, OT_INT8, OT_INT16, OT_INT32,
                                        OT_INT64, OT_FLOAT16, OT_FLOAT, OT_DOUBLE, OT_BFLOAT16, OT_UNDEFINED};

static ot_status einsum_resolve(ot_kctx *c, ot_einsum_shape *sh) {
    const ot_einsum_eq *eq = c->attrs;
    if (c->n_in != eq->n_in)
        return ot_op_error(c, OT_ERR_SHAPE, "equation has %d operands but the node has %d inputs", eq->n_in, c->n_in);
    int ranks[OT_EINSUM_MAX_INPUTS];
    const int64_t *dims[OT_EINSUM_MAX_INPUTS];
    for (int i = 0; i < c->n_in; i++) {
        if (!ot_in(c, i)) return ot_op_error(c, OT_ERR_SHAPE, "input %d is missing", i);
        ranks[i] = ot_in(c, i)->rank;
        dims[i] = ot_in(c, i)->dims;
    }
    ot_status s = ot_einsum_resolve(eq, c->n_in, ranks, dims, sh);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    return OT_OK;
}

static ot_status einsum_infer(ot_kctx *c) {
    for (int i = 0; i < c->n_in; i++) {
        OT_TRY(ot_check_dtype(c, i, einsum_types));
        OT_TRY(same_dtype(c, 0, i));
    }
    ot_einsum_shape sh;
    OT_TRY(einsum_resolve(c, &sh));
    ot_set_out(c, 0, ot_in(c, 0)->dtype, sh.out_rank, sh.out_dims);
    return OT_OK;
}

static ot_status einsum_cpu(ot_kctx *c) {
    ot_einsum_shape sh;
    OT_TRY(einsum_resolve(c, &sh));
    const void *in[OT_EINSUM_MAX_INPUTS];
    for (int i = 0; i < c->n_in; i++) in[i] = ot_in(c, i)->data;
    ot_status s = ot_einsum_run(&sh, ot_out(c, 0)->dtype, in, ot_out(c, 0)->data);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    return OT_OK;
}

const ot_op_def ot_ops_matmul[] = {
    {.name = "MatMul", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 2, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "", .infer = matmul_infer, .cpu = matmul_cpu,
     .dtypes = "float16, bfloat16, float, double, int32, int64, uint32, uint64", .grad = ot_matmul_grad},
    {.name = "MatMulInteger", .domain = "", .min_opset = 10, .max_opset = 23, .min_inputs = 2, .max_inputs = 4,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "", .infer = mmi_infer, .cpu = mmi_cpu,
     .dtypes = "int8, uint8 -> int32"},
    {.name = "Gemm", .domain = "", .min_opset = 6, .max_opset = 23, .min_inputs = 2, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "alpha,beta,broadcast,transA,transB",
     .attrs_size = sizeof(gemm_attrs), .parse = gemm_parse, .infer = gemm_infer, .cpu = gemm_cpu,
     .dtypes = "float16, bfloat16, float, double, int32, int64, uint32, uint64", .grad = ot_gemm_grad},
    {.name = "Einsum", .domain = "", .min_opset = 12, .max_opset = 23, .min_inputs = 1,
     .max_inputs = OT_EINSUM_MAX_INPUTS, .min_outputs = 1, .max_outputs = 1, .attr_names = "equation",
     .attrs_size = sizeof(ot_einsum_eq), .parse = einsum_parse, .infer = einsum_infer, .cpu = einsum_cpu,
     .dtypes = "all integer types, float16, bfloat16, float, double", .grad = ot_einsum_grad},
    /* FusedMatMul: A (..., M, K) or (..., K, M) with transA, B (..., K, N) or
       (..., N, K) with transB, batch dims broadcast -> Y (..., M, N). */
    {.name = "FusedMatMul", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 2, .min_outputs = 1, .max_outputs = 1, .attr_names = "transA,transB",
     .attrs_size = sizeof(fmm_attrs), .parse = fmm_parse, .infer = matmul_infer, .cpu = matmul_cpu,
     .dtypes = "float16, bfloat16, float, double, int32, int64, uint32, uint64", .grad = ot_fused_matmul_grad},
};
const int ot_ops_matmul_count = sizeof ot_ops_matmul / sizeof ot_ops_matmul[0];
