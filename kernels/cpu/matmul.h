/* Dense matrix products on the CPU: BLAS wrappers (row-major) and a batched
 * matmul with per-batch operand offsets (broadcast batch dims), used by
 * MatMul, Gemm, Einsum and the convolutions. */
#ifndef OT_KERNELS_CPU_MATMUL_H
#define OT_KERNELS_CPU_MATMUL_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

/* OpenBLAS takes 32-bit int dims: infer checks every M, N, K and leading
   dimension with this before a kernel may be called. */
bool ot_blas_fits(int64_t v);

/* C (M, N) = alpha * op(A) op(B) + beta * C, row-major; op(A) is (M, K): A is
   (M, K) with row stride lda, or (K, M) when ta.  beta == 0 never reads C (NaN
   in C does not leak); K == 0 gives beta * C.  Multithreaded by BLAS when
   called outside an OpenMP parallel region, single-threaded inside one. */
void ot_gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void ot_gemm_f64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                 int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc);
/* Integer C = op(A) op(B) (overwrites C), wrapping modulo 2^32 / 2^64 as
   two's-complement hardware does: the same bits serve signed and unsigned. */
void ot_gemm_u32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const uint32_t *A, int64_t lda,
                 const uint32_t *B, int64_t ldb, uint32_t *C, int64_t ldc);
void ot_gemm_u64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const uint64_t *A, int64_t lda,
                 const uint64_t *B, int64_t ldb, uint64_t *C, int64_t ldc);

/* Batched product C[b] = op(A[b]) op(B[b]) for b < batch, C contiguous
 * (batch, M, N).  A[b] starts at element a_off[b] of A, or b * a_stride when
 * a_off is NULL (a_stride = M * K: back to back; 0: one matrix for all); the
 * same for B.  Offset arrays express broadcast batch dims in general.  When
 * every B[b] is the same matrix and A's are back to back, this is one GEMM of
 * (batch * M) rows.  dtype: float32, float64, int32/uint32, int64/uint64;
 * OT_ERR_UNSUPPORTED for any other. */
ot_status ot_matmul_batched(ot_dtype dtype, bool ta, bool tb, int64_t batch, const int64_t *a_off,
                            int64_t a_stride, const int64_t *b_off, int64_t b_stride, int64_t M, int64_t N,
                            int64_t K, const void *A, const void *B, void *C);

/* float16/bfloat16 <-> float32 conversion of n elements (parallel for large n). */
void ot_half_to_f32(ot_dtype dtype, const uint16_t *src, float *dst, int64_t n);
void ot_f32_to_half(ot_dtype dtype, const float *src, uint16_t *dst, int64_t n);

#endif
