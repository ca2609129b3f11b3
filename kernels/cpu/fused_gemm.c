/* FusedGemm on the CPU: Y = act(alpha * op(A) op(B) + beta * C) computed in
 * panels of output rows.  Each panel is seeded with its bias rows, multiplied
 * by one BLAS call (accumulating onto the bias with beta, exactly as the
 * unfused Gemm does) and activated right away, while its (rows, N) block is
 * still in cache — the bias and activation never make a separate pass over
 * Y.  Panels run on separate OpenMP threads (BLAS is single-threaded inside a
 * parallel region); a GEMM too small to split runs as one panel, where BLAS
 * may thread the product itself. */
#include <omp.h>
#include <string.h>

#include "matmul.h"
#include "fused.h"

/* Rows per panel: a (rows, N) block of about 64 KiB, at least 16 rows. */
static int64_t fg_panel_rows(int64_t N, size_t es) {
    int64_t r = (int64_t)(65536 / ((size_t)(N > 0 ? N : 1) * es));
    if (r < 16) r = 16;
    if (r > 256) r = 256;
    return r & ~(int64_t)7;
}

#define FG_PANEL(NAME, T, GEMM, UNARY)                                                                    \
    static void NAME(const ot_fgemm_args *a, int64_t r0, int64_t r1) {                                 \
        const int64_t N = a->N, rows = r1 - r0;                                                          \
        T *dst = a->Z ? (T *)a->Z : (T *)a->Y;                                                           \
        T *y = dst + r0 * N;                                                                             \
        T beta = 0;                                                                                      \
        if (a->C && a->beta != 0.0) {                                                                    \
            const T *c = a->C;                                                                           \
            for (int64_t i = r0; i < r1; i++) {                                                          \
                T *yr = dst + i * N;                                                                     \
                const T *cr = c + i * a->c_row;                                                          \
                if (a->c_col == 1) memcpy(yr, cr, (size_t)N * sizeof(T));                                \
                else                                                                                     \
                    for (int64_t j = 0; j < N; j++) yr[j] = cr[j * a->c_col];                            \
            }                                                                                            \
            beta = (T)a->beta;                                                                           \
        }                                                                                                \
        const T *A = a->A, *B = a->B;                                                                    \
        /* op(A) rows r0..r1: A is (M, K) row-major, or (K, M) when transposed. */                      \
        const T *Ap = a->trans_a ? A + r0 : A + r0 * a->K;                                               \
        GEMM(a->trans_a, a->trans_b, rows, N, a->K, (T)a->alpha, Ap, a->trans_a ? a->M : a->K, B,        \
             a->trans_b ? a->K : N, beta, y, N);                                                         \
        if (a->has_act) UNARY(a->act, &a->act_p, y, (T *)a->Y + r0 * N, rows * N);                     \
        else if (a->Z) memcpy((T *)a->Y + r0 * N, y, (size_t)(rows * N) * sizeof(T));                  \
    }
FG_PANEL(fg_panel_f32, float, ot_gemm_f32, ot_fused_unary_f32)
FG_PANEL(fg_panel_f64, double, ot_gemm_f64, ot_unary_f64)

ot_status ot_cpu_fused_gemm(ot_dtype dt, const ot_fgemm_args *a) {
    void (*panel)(const ot_fgemm_args *, int64_t, int64_t);
    if (dt == OT_FLOAT) panel = fg_panel_f32;
    else if (dt == OT_DOUBLE) panel = fg_panel_f64;
    else return ot_error(OT_ERR_UNSUPPORTED, "FusedGemm: %s is not supported (float, double)", ot_dtype_name(dt));
    const int64_t M = a->M;
    if (M <= 0 || a->N <= 0) return OT_OK;
    const int64_t pr = fg_panel_rows(a->N, ot_dtype_size(dt)), panels = (M + pr - 1) / pr;
    const double flops = 2.0 * (double)M * (double)a->N * (double)a->K;
    const int threads = omp_get_max_threads();
    /* Split only work worth a parallel region; otherwise one panel (and
       BLAS's own threads for a large product). */
    if (threads <= 1 || panels < 2 || flops < 4e5 || omp_in_parallel()) {
        if (panels >= 2) {
            for (int64_t p = 0; p < panels; p++) panel(a, p * pr, (p + 1) * pr < M ? (p + 1) * pr : M);
        } else {
            panel(a, 0, M);
        }
        return OT_OK;
    }
    /* At least one panel per thread: shrink panels when there are few. */
    int64_t n = panels < threads ? threads : panels;
    if (n > M / 8) n = M / 8 > 0 ? M / 8 : 1;
    const int64_t per = (M + n - 1) / n;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < n; p++) {
        int64_t r0 = p * per, r1 = r0 + per < M ? r0 + per : M;
        if (r0 < r1) panel(a, r0, r1);
    }
    return OT_OK;
}
