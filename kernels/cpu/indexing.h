/* CPU kernels for the indexing family: Gather*, Scatter*, Compress, NonZero, TopK.
 *
 * Kernels move elements as opaque bytes of `esize` bytes wherever no
 * arithmetic is involved, so every dtype (complex included) shares one loop.
 * Index buffers are int32 or int64 (`idx64`), and the caller has already
 * validated every index against its bound (negative values in [-dim, 0) wrap);
 * kernels never check, so the op can name the offending index in its error. */
#ifndef OT_KERNELS_CPU_INDEXING_H
#define OT_KERNELS_CPU_INDEXING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxtrain.h"

typedef enum ot_scatter_reduce {
    OT_REDUCE_NONE = 0, /* plain assignment: the last update to an element wins */
    OT_REDUCE_ADD,
    OT_REDUCE_MUL,
    OT_REDUCE_MAX,
    OT_REDUCE_MIN
} ot_scatter_reduce;

static inline int64_t ot_idx_at(const void *idx, bool idx64, int64_t i) {
    return idx64 ? ((const int64_t *)idx)[i] : (int64_t)((const int32_t *)idx)[i];
}

/* dst[i] = f(dst[i], src[i]) for i < n; NULL when dtype/reduction has no
   arithmetic here (complex, or a reduction on a non-numeric type). */
typedef void (*ot_combine_fn)(void *dst, const void *src, int64_t n);
ot_combine_fn ot_cpu_combine_fn(ot_dtype dt, ot_scatter_reduce red);

/* Gather: data (outer, axis_dim, inner) -> out (outer, n_idx, inner).
   Along axis 0 (outer == 1) this is an embedding lookup: one memcpy per row. */
void ot_cpu_gather(const void *data, size_t esize, int64_t outer, int64_t axis_dim, int64_t inner,
                   const void *idx, bool idx64, int64_t n_idx, void *out);

/* GatherElements: out has the indices' shape `idims` (rank r); element p reads
   data at p's coordinates with coordinate `axis` replaced by indices[p]. */
void ot_cpu_gather_elements(const void *data, size_t esize, int rank, const int64_t *ddims,
                            const int64_t *idims, int axis, const void *idx, bool idx64, void *out);

/* ScatterElements: `out` already holds a copy of data (shape ddims); each
   update p goes to p's coordinates with coordinate `axis` replaced by
   indices[p], in row-major order of the updates (deterministic with duplicates). */
void ot_cpu_scatter_elements(void *out, size_t esize, ot_combine_fn combine, int rank, const int64_t *ddims,
                             const int64_t *idims, int axis, const void *idx, bool idx64, const void *updates);

/* GatherND with data viewed as (batch, kdims[0..k-1], slice) and indices as
   (batch, n_tuples, k): out (batch, n_tuples, slice). */
void ot_cpu_gather_nd(const void *data, size_t esize, int64_t batch, int k, const int64_t *kdims, int64_t slice,
                      const void *idx, bool idx64, int64_t n_tuples, void *out);

/* ScatterND: `out` (kdims[0..k-1], slice) already holds data; indices
   (n_tuples, k), updates (n_tuples, slice); applied in tuple order. */
void ot_cpu_scatter_nd(void *out, size_t esize, ot_combine_fn combine, int k, const int64_t *kdims, int64_t slice,
                       const void *idx, bool idx64, int64_t n_tuples, const void *updates);

/* ---- backward kernels (the ai.onnxtrain *Grad ops) ----
 * Indices are validated by the caller, as for the forward kernels. */

/* Gather's adjoint: dx (outer, axis_dim, inner) = 0, then for every index j
   dx[o, idx[j], :] += dy[o, j, :] (duplicates accumulate).  dt is float,
   double, float16 or bfloat16 (the half types accumulate in float32).  The
   embedding case (outer 1) splits destination rows among threads, so no
   atomics are needed.  OT_ERR_NOMEM if scratch cannot be had. */
ot_status ot_cpu_gather_grad(ot_dtype dt, void *dx, int64_t outer, int64_t axis_dim, int64_t inner, const void *idx,
                             bool idx64, int64_t n_idx, const void *dy);

/* ScatterElements (reduction none)'s adjoint for dy of data's shape ddims:
   d_data = dy with every written position zeroed; d_updates[p] = dy at p's
   target when update p is the one that stays there (the last in row-major
   order), else 0.  Either output may be NULL.  Byte moves only. */
ot_status ot_cpu_scatter_elements_grad(size_t esize, int rank, const int64_t *ddims, const int64_t *idims, int axis,
                                       const void *idx, bool idx64, const void *dy, void *d_data, void *d_updates);

/* ScatterND (reduction none)'s adjoint, the same per slice: dy and d_data
   (kdims[0..k-1], slice), indices (n_tuples, k), d_updates (n_tuples, slice). */
ot_status ot_cpu_scatter_nd_grad(size_t esize, int k, const int64_t *kdims, int64_t slice, const void *idx, bool idx64,
                                 int64_t n_tuples, const void *dy, void *d_data, void *d_updates);

/* Compress: data (outer, axis_dim, inner) keeps the axis positions j < cond_len
   with cond[j] != 0 (the caller checked that no True lies beyond axis_dim). */
void ot_cpu_compress(const void *data, size_t esize, int64_t outer, int64_t axis_dim, int64_t inner,
                     const uint8_t *cond, int64_t cond_len, void *out);

/* Whether element i of a dtype-typed buffer is nonzero (-0.0 is zero, NaN is not). */
bool ot_cpu_is_nonzero(ot_dtype dt, const void *data, int64_t i);
/* Number of nonzero elements. */
int64_t ot_cpu_count_nonzero(ot_dtype dt, const void *data, int64_t n);
/* NonZero: out (rank, nnz) int64, coordinates in row-major order. rank >= 1. */
void ot_cpu_nonzero(ot_dtype dt, const void *data, int rank, const int64_t *dims, int64_t nnz, int64_t *out);

/* TopK along the middle axis of x (outer, n, inner): values (outer, k, inner)
   and int64 indices.  Ties go to the lower index; NaN counts as larger than
   every number (numpy's sort order).  OT_ERR_NOMEM if scratch cannot be had. */
ot_status ot_cpu_topk(const void *x, ot_dtype dt, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest,
                      void *values, int64_t *indices);

#endif
