/* Dense matrix products: OpenBLAS for floats, plain loops for integers. */
#include "matmul.h"

#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <string.h>

#include "src/core/dtype.h"
#include "src/core/half.h"
#include "src/core/status.h"

bool ot_blas_fits(int64_t v) { return v >= 0 && v <= INT_MAX; }

/* Below this many multiply-adds a GEMM is not worth a thread team of its own:
   batches of such products are spread over threads instead. */
#define OT_SMALL_GEMM ((int64_t)1 << 18)

void ot_gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        for (int64_t i = 0; i < M; i++) {
            float *c = C + i * ldc;
            if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
            else if (beta != 1.0f)
                for (int64_t j = 0; j < N; j++) c[j] *= beta;
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void ot_gemm_f64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                 int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0) {
        for (int64_t i = 0; i < M; i++) {
            double *c = C + i * ldc;
            if (beta == 0.0) memset(c, 0, (size_t)N * sizeof *c);
            else if (beta != 1.0)
                for (int64_t j = 0; j < N; j++) c[j] *= beta;
        }
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* Integer GEMM: row i of C is a sum of rows of B (contiguous inner loop the
   compiler vectorises); with tb, B's rows are C's columns, so dot products. */
#define OT_GEMM_INT(NAME, T)                                                                              \
    void NAME(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, const T *B,      \
              int64_t ldb, T *C, int64_t ldc) {                                                           \
        int64_t as_i = ta ? 1 : lda, as_k = ta ? lda : 1;                                                  \
        _Pragma("omp parallel for schedule(static) if (M * N * K > OT_SMALL_GEMM && !omp_in_parallel())") \
        for (int64_t i = 0; i < M; i++) {                                                                  \
            const T *a = A + i * as_i;                                                                     \
            T *c = C + i * ldc;                                                                            \
            if (!tb) {                                                                                     \
                for (int64_t j = 0; j < N; j++) c[j] = 0;                                                  \
                for (int64_t k = 0; k < K; k++) {                                                          \
                    T av = a[k * as_k];                                                                    \
                    const T *b = B + k * ldb;                                                              \
                    if (av == 0) continue;                                                                 \
                    for (int64_t j = 0; j < N; j++) c[j] += av * b[j];                                     \
                }                                                                                          \
            } else {                                                                                       \
                for (int64_t j = 0; j < N; j++) {                                                          \
                    const T *b = B + j * ldb;                                                              \
                    T s = 0;                                                                               \
                    for (int64_t k = 0; k < K; k++) s += a[k * as_k] * b[k];                               \
                    c[j] = s;                                                                              \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }

OT_GEMM_INT(ot_gemm_u32, uint32_t)
OT_GEMM_INT(ot_gemm_u64, uint64_t)

/* One product of the batch, dispatched on dtype. */
static void gemm_one(ot_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void *A,
                     int64_t ao, const void *B, int64_t bo, void *C, int64_t co) {
    int64_t lda = ta ? M : K, ldb = tb ? K : N;
    switch (dt) {
    case OT_FLOAT:
        ot_gemm_f32(ta, tb, M, N, K, 1.0f, (const float *)A + ao, lda, (const float *)B + bo, ldb, 0.0f,
                    (float *)C + co, N);
        break;
    case OT_DOUBLE:
        ot_gemm_f64(ta, tb, M, N, K, 1.0, (const double *)A + ao, lda, (const double *)B + bo, ldb, 0.0,
                    (double *)C + co, N);
        break;
    case OT_INT32:
    case OT_UINT32:
        ot_gemm_u32(ta, tb, M, N, K, (const uint32_t *)A + ao, lda, (const uint32_t *)B + bo, ldb,
                    (uint32_t *)C + co, N);
        break;
    default: /* OT_INT64, OT_UINT64: checked by the caller */
        ot_gemm_u64(ta, tb, M, N, K, (const uint64_t *)A + ao, lda, (const uint64_t *)B + bo, ldb,
                    (uint64_t *)C + co, N);
        break;
    }
}

ot_status ot_matmul_batched(ot_dtype dtype, bool ta, bool tb, int64_t batch, const int64_t *a_off,
                            int64_t a_stride, const int64_t *b_off, int64_t b_stride, int64_t M, int64_t N,
                            int64_t K, const void *A, const void *B, void *C) {
    switch (dtype) {
    case OT_FLOAT: case OT_DOUBLE: case OT_INT32: case OT_UINT32: case OT_INT64: case OT_UINT64: break;
    default:
        return ot_error(OT_ERR_UNSUPPORTED, "matrix product of %s tensors is not supported",
                        ot_dtype_name(dtype));
    }
    if (batch <= 0 || M <= 0 || N <= 0) return OT_OK;
    /* B shared by the whole batch and A's matrices back to back (a Linear
       layer on (B, T, C) input): one tall GEMM is much faster than a loop. */
    bool b_shared = true, a_contig = !ta;
    for (int64_t b = 0; b < batch && (b_shared || a_contig); b++) {
        if ((b_off ? b_off[b] : b * b_stride) != (b_off ? b_off[0] : 0)) b_shared = false;
        if ((a_off ? a_off[b] : b * a_stride) != b * M * K) a_contig = false;
    }
    int64_t ao0 = a_off ? a_off[0] : 0, bo0 = b_off ? b_off[0] : 0;
    if (batch == 1) {
        gemm_one(dtype, ta, tb, M, N, K, A, ao0, B, bo0, C, 0);
        return OT_OK;
    }
    if (b_shared && a_contig && ot_blas_fits(batch * M)) {
        gemm_one(dtype, ta, tb, batch * M, N, K, A, 0, B, bo0, C, 0);
        return OT_OK;
    }
    /* Many small products: one per thread (BLAS runs single-threaded inside a
       parallel region).  Few large ones: each gets all threads from BLAS. */
    int threads = omp_get_max_threads();
    bool spread = batch >= threads || M * N * K <= OT_SMALL_GEMM;
    #pragma omp parallel for schedule(static) if (spread && !omp_in_parallel())
    for (int64_t b = 0; b < batch; b++) {
        int64_t ao = a_off ? a_off[b] : b * a_stride, bo = b_off ? b_off[b] : b * b_stride;
        gemm_one(dtype, ta, tb, M, N, K, A, ao, B, bo, C, b * M * N);
    }
    return OT_OK;
}

void ot_half_to_f32(ot_dtype dtype, const uint16_t *src, float *dst, int64_t n) {
    if (dtype == OT_BFLOAT16) {
        #pragma omp parallel for schedule(static) if (n > 65536 && !omp_in_parallel())
        for (int64_t i = 0; i < n; i++) dst[i] = ot_bf16_to_f32(src[i]);
    } else {
        #pragma omp parallel for schedule(static) if (n > 65536 && !omp_in_parallel())
        for (int64_t i = 0; i < n; i++) dst[i] = ot_f16_to_f32(src[i]);
    }
}

void ot_f32_to_half(ot_dtype dtype, const float *src, uint16_t *dst, int64_t n) {
    if (dtype == OT_BFLOAT16) {
        #pragma omp parallel for schedule(static) if (n > 65536 && !omp_in_parallel())
        for (int64_t i = 0; i < n; i++) dst[i] = ot_f32_to_bf16(src[i]);
    } else {
        #pragma omp parallel for schedule(static) if (n > 65536 && !omp_in_parallel())
        for (int64_t i = 0; i < n; i++) dst[i] = ot_f32_to_f16(src[i]);
    }
}
