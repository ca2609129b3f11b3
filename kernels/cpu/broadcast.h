/* The broadcasting N-d iterator behind every elementwise kernel.
 *
 * Operand 0 is the (contiguous) output; operands 1.. are inputs whose shapes
 * broadcast to it numpy-style (right-aligned, size-1 or missing dims repeat).
 * Init turns the shapes into byte strides (0 on broadcast axes), drops size-1
 * dims and merges adjacent dims that every operand walks contiguously, so a
 * same-shape op becomes one flat loop and (N, C, H, W) + (1, C, 1, 1) becomes
 * (N, C, H*W) + (0, s, 0).  Run cuts the flat output index space into fixed
 * chunks (OpenMP over chunks) and calls an "inner loop" function on each run
 * of consecutive output elements:
 *
 *     fn(ptr, stride, n, ctx)   ptr[k]: operand k's first element,
 *                               stride[k]: its byte step (0 = repeated value)
 *
 * Every element is computed by exactly one call whatever the partition, so
 * results are bit-identical for any thread count.  The fusion compiler uses
 * the same iterator with its own inner loops. */
#ifndef OT_KERNELS_CPU_BROADCAST_H
#define OT_KERNELS_CPU_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "../../src/core/status.h"
#include "../../src/core/tensor.h"

#define OT_BCAST_MAX_OPERANDS 8

typedef void (*ot_bcast_fn)(char *const *ptr, const int64_t *stride, int64_t n, const void *ctx);

typedef struct ot_bcast {
    int n_ops;
    int rank; /* after collapsing; >= 1 */
    int64_t dims[OT_MAX_RANK];
    int64_t strides[OT_BCAST_MAX_OPERANDS][OT_MAX_RANK]; /* bytes */
    int64_t numel;
} ot_bcast;

/* out_rank/out_dims: the output shape; operand k (k >= 1) has shape
   (ranks[k], dims[k]) and elem_size[k] bytes per element (index 0 describes
   the output and its rank/dims entries are ignored).  OT_ERR_SHAPE when an
   input does not broadcast to the output. */
ot_status ot_bcast_init(ot_bcast *it, int out_rank, const int64_t *out_dims, int n_ops, const int *ranks,
                        const int64_t *const *dims, const size_t *elem_size);
/* Runs fn over every output element; base[k] is operand k's data.  grain is
   the number of elements below which one thread does everything (0: a
   default suited to memory-bound loops; pass less for costly functions). */
void ot_bcast_run(const ot_bcast *it, char *const *base, ot_bcast_fn fn, const void *ctx, int64_t grain);

/* Init + run on tensors: out (allocated, shaped) and n_in inputs. */
ot_status ot_bcast_tensors(ot_tensor *out, int n_in, const ot_tensor *const *in, ot_bcast_fn fn, const void *ctx,
                           int64_t grain);

/* Broadcast shape of n tensors' shapes (multidirectional) into rank/dims. */
ot_status ot_bcast_shape(int n, const ot_tensor *const *t, int *rank, int64_t *dims);

/* Runs body(i0, i1, ctx) over [0, n) in fixed chunks, in parallel when n >=
   grain: for flat (unbroadcast) loops such as unary maps. */
typedef void (*ot_range_fn)(int64_t begin, int64_t end, const void *ctx);
void ot_parallel_range(int64_t n, int64_t grain, ot_range_fn body, const void *ctx);

#define OT_GRAIN_CHEAP 32768 /* add, copy, compare: memory bound */
#define OT_GRAIN_COSTLY 4096 /* exp, tanh, erf, pow: compute bound */

#endif
