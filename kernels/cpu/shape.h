/* CPU loops of the shape family: they move bytes and never look at values,
 * so one loop serves every dtype (only the element size matters).
 *
 * Strides are in elements and may be zero (broadcast) or negative (reversed
 * slices).  Buffers are assumed aligned to their element size, as tensor and
 * arena allocations are. */
#ifndef OT_KERNELS_CPU_SHAPE_H
#define OT_KERNELS_CPU_SHAPE_H

#include <stddef.h>
#include <stdint.h>

/* Tile (rank r) is a strided copy of rank 2r, hence twice the tensor limit. */
#define OT_K_COPY_MAX_RANK 16

/* For every index i of the box `dims` (rank <= OT_K_COPY_MAX_RANK):
 *   dst[sum i_k * dst_strides_k] = src[sum i_k * src_strides_k].
 * Writes must not overlap reads.  Serves Transpose, Slice, Expand, Tile,
 * Concat, Split and Pad.  A 2-D transposition in the two innermost dims (after
 * merging contiguous dims) takes a cache-tiled path. */
void ot_k_copy_strided(void *dst, const int64_t *dst_strides, const void *src, const int64_t *src_strides,
                       int rank, const int64_t *dims, size_t esize);

/* n elements of `esize` bytes each set to the bytes at `value`. */
void ot_k_fill(void *dst, int64_t n, const void *value, size_t esize);

/* Plain copy of `bytes` bytes (parallel for large buffers). */
void ot_k_copy_bytes(void *dst, const void *src, size_t bytes);

typedef enum ot_k_pad_mode { OT_K_PAD_CONSTANT, OT_K_PAD_REFLECT, OT_K_PAD_EDGE, OT_K_PAD_WRAP } ot_k_pad_mode;

/* Pads `src` (its already-cropped view: dims `in_dims`, strides `src_strides`)
 * into the contiguous `dst` of dims `out_dims`, with begin[k] >= 0 elements
 * before axis k's data.  `value` (esize bytes) is the fill of constant mode.
 * Non-constant modes need in_dims[k] > 0 wherever out_dims[k] > in_dims[k]. */
void ot_k_pad(void *dst, const int64_t *out_dims, const void *src, const int64_t *src_strides,
              const int64_t *in_dims, const int64_t *begin, int rank, ot_k_pad_mode mode, const void *value,
              size_t esize);

/* Adjoint of ot_k_pad in the reflect/edge/wrap modes (PadGrad): dx (x_dims)
 * receives every element of dy (y_dims) at the input position it was copied
 * from, summed.  Per axis, pads begin[k] / end[k] (negative crops) map output
 * index j to input index crop_b + i (i = j - max(begin, 0) inside the kept
 * range, else the mode's mirror of i), so the adjoint is one accumulation per
 * padded axis.  Element type float (is_double 0) or double.  Returns 0, or -1
 * when scratch memory could not be had. */
int ot_k_pad_grad(void *dx, const int64_t *x_dims, const void *dy, const int64_t *y_dims, const int64_t *begin,
                  const int64_t *end, int rank, ot_k_pad_mode mode, int is_double);

/* Batched triangle: x, y (batch, n, m); keeps j - i >= k (upper) or
 * j - i <= k (lower), zero bytes elsewhere. */
void ot_k_trilu(void *dst, const void *src, int64_t batch, int64_t n, int64_t m, int64_t k, int upper,
                size_t esize);

#endif
