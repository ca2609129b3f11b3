/* Einsum: equation parsing, shape resolution and evaluation.
 *
 * Labels: 'A'..'Z' are ids 0..25 and 'a'..'z' 26..51 (ASCII order, which is
 * the order numpy uses for implicit outputs); the dims an ellipsis stands for
 * get ids 52 + j, j counting from the left of the broadcast ellipsis shape
 * (operands' ellipsis dims are right-aligned against each other, as numpy
 * broadcasts them).  A dim of size 1 broadcasts against the label's size
 * elsewhere, as in numpy.
 *
 * Evaluation: repeated labels within an operand become a strided diagonal
 * view, labels used by one operand only are summed early, then operands are
 * contracted left to right as batched GEMMs (batch = labels shared and kept,
 * K = labels shared and summed), transposing through the GEMM's trans flags
 * when an operand's layout allows and copying it otherwise.  Integers are
 * computed in 64 bits (wrapping), float16/bfloat16 in float32. */
#ifndef OT_KERNELS_CPU_EINSUM_H
#define OT_KERNELS_CPU_EINSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

#define OT_EINSUM_MAX_INPUTS 16
#define OT_EINSUM_LETTERS 52
#define OT_EINSUM_MAX_LABELS (OT_EINSUM_LETTERS + OT_MAX_RANK)

/* The equation as written, before shapes are known. */
typedef struct ot_einsum_eq {
    int n_in;
    int8_t n_lab[OT_EINSUM_MAX_INPUTS];              /* letters in each term */
    int8_t lab[OT_EINSUM_MAX_INPUTS][OT_MAX_RANK];   /* letter ids, "..." excluded */
    int8_t ell[OT_EINSUM_MAX_INPUTS];                /* letters before "...", -1: none */
    bool explicit_out;                               /* "->" present */
    int8_t out_n;
    int8_t out_lab[OT_MAX_RANK];
    int8_t out_ell;
} ot_einsum_eq;

/* Syntax only (spaces allowed anywhere): OT_ERR_PARSE with the reason. */
ot_status ot_einsum_parse(const char *equation, ot_einsum_eq *out);

/* The equation against concrete input shapes. */
typedef struct ot_einsum_shape {
    int n_in;
    int rank[OT_EINSUM_MAX_INPUTS];
    int8_t lab[OT_EINSUM_MAX_INPUTS][OT_MAX_RANK];   /* label of each input dim */
    int64_t in_dims[OT_EINSUM_MAX_INPUTS][OT_MAX_RANK];
    int64_t size[OT_EINSUM_MAX_LABELS];              /* -1: label unused */
    int out_rank;
    int8_t out_lab[OT_MAX_RANK];
    int64_t out_dims[OT_MAX_RANK];
} ot_einsum_shape;

/* OT_ERR_SHAPE (rank or size mismatch, output subscript not in any input, ...). */
ot_status ot_einsum_resolve(const ot_einsum_eq *eq, int n_in, const int *ranks, const int64_t *const *dims,
                            ot_einsum_shape *out);

/* Evaluates into out (shaped sh->out_dims, dtype of every input). */
ot_status ot_einsum_run(const ot_einsum_shape *sh, ot_dtype dtype, const void *const *in, void *out);

#endif
