/* CPU kernels of the fused family (ops/fused.c, built by src/passes/fuse*.c).
 *
 * FusedElementwise runs a small register program per element of one
 * broadcast output shape.  Registers 0..n_in-1 are the inputs; instruction i
 * defines register n_in + i.  The output shape is walked in tiles of
 * consecutive elements (broadcast.h's collapsed strides): each
 * instruction runs over the whole tile in one vectorisable loop computing
 * what the unfused op computes (its own loop, or the float32 loops of
 * fused_loops.c, the same expressions compiled for AVX2 too), so a fused
 * chain gives the unfused results bit for bit — Erf and exact Gelu in
 * float32 excepted (a few ulp) — with its result in a tile-sized slot of a
 * per-thread register file (or straight in the output); a register whose operands
 * are all broadcast within the tile is computed once ("uniform").  Every
 * input is read once and every output written once.  Optional reductions sum
 * a register over all axes but the last (a bias gradient) in the same pass,
 * in double over a fixed row partition, so results do not depend on the
 * thread count.
 *
 * FusedGemm computes Y = act(alpha * op(A) op(B) + beta * C) in panels of
 * output rows; bias and activation run on each panel right after its GEMM,
 * while it is in cache. */
#ifndef OT_KERNELS_CPU_FUSED_H
#define OT_KERNELS_CPU_FUSED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../src/core/status.h"
#include "../../src/core/tensor.h"
#include "elementwise.h"
#include "elementwise_grad.h"

#include "simd_clones.h"

#define OT_FX_MAX_INPUTS 7   /* broadcast operands: the output plus these */
#define OT_FX_MAX_INS 32
#define OT_FX_MAX_OUTPUTS 8
#define OT_FX_MAX_REDUCE 4
/* The per-thread register file: n_slots + 1 tiles on the stack whose
   elements fill about OT_FX_L1_BYTES (so a tile's registers stay in L1: few
   live registers give long tiles, many give short ones; a multiple of 64
   elements, at most OT_FX_TILE_MAX).  Slots start OT_FX_SLOT_PAD bytes
   apart beyond their size, so no two begin at the same offset modulo 4 KiB:
   a load from one slot would otherwise wait on stores to another (4K
   aliasing), which made tile loops several times slower. */
#define OT_FX_RF_BYTES 65536
#define OT_FX_L1_BYTES 24576
#define OT_FX_TILE_MAX 2048
#define OT_FX_SLOT_PAD 320
#define OT_FX_MAX_SLOTS (OT_FX_MAX_INS + 1) /* + one to expand a uniform operand */

typedef enum ot_fx_kind {
    OT_FX_CONST = 0, /* k */
    OT_FX_UNARY,     /* sub: ot_unary_op, params p; operand a */
    OT_FX_UGRAD,     /* sub: ot_unary_grad_op, params p; a = dy, b = v */
    OT_FX_BINARY,    /* sub: ot_binary_op (arithmetic, min/max, prelu, compares -> bool) */
    OT_FX_POW,       /* a ^ b */
    OT_FX_WHERE,     /* a (bool) ? b : c */
    OT_FX_CLIP,      /* min(max(a, b), c); b, c may be -1 (unbounded) */
    OT_FX_CAST,      /* a converted to the instruction's dtype */
    OT_FX_KIND_COUNT
} ot_fx_kind;

typedef struct ot_fx_ins {
    ot_fx_kind kind;
    int sub;
    ot_dtype dtype;    /* result: float, double or bool */
    int a, b, c;       /* operand registers, -1: none */
    ot_unary_params p;
    double k;
    int slot;          /* tile slot holding the result (ot_fx_prog_finalize) */
} ot_fx_ins;

typedef struct ot_fx_prog {
    int n_in, n_ins, n_out, n_red;
    ot_fx_ins ins[OT_FX_MAX_INS];
    int out_reg[OT_FX_MAX_OUTPUTS];
    int red_reg[OT_FX_MAX_REDUCE];
    bool red_keepdims[OT_FX_MAX_REDUCE];
    /* derived by ot_fx_prog_finalize */
    int n_slots;
    int tile;          /* elements per tile */
    int slot_bytes;    /* distance between slots */
    bool costly;       /* transcendental work: a smaller parallel grain */
} ot_fx_prog;

/* Opcode names used in the FusedElementwise `ops` attribute: ADD, SUB, MUL,
   DIV, MIN, MAX, PRELU, EQ, LT, LE, GT, GE, POW, WHERE, CLIP, CAST, CONST,
   the unary maps by their enum names (RELU, GELU_TANH, ...) and their
   gradients with a _GRAD suffix (RELU_GRAD, ...). */
const char *ot_fx_op_name(ot_fx_kind kind, int sub);
bool ot_fx_op_lookup(const char *name, ot_fx_kind *kind, int *sub);

/* Checks register references (defined before use, outputs and reductions in
   range) and assigns tile slots.  OT_ERR_INVALID_ARG with a message. */
ot_status ot_fx_prog_finalize(ot_fx_prog *p);
/* Checks the operand dtypes against the inputs' (in_dtypes[n_in]): float
   work in one float type per instruction, bool conditions and compares. */
ot_status ot_fx_prog_check_types(const ot_fx_prog *p, const ot_dtype *in_dtypes);
/* Dtype of register r given the inputs' dtypes. */
ot_dtype ot_fx_reg_dtype(const ot_fx_prog *p, const ot_dtype *in_dtypes, int r);

/* y = op(x) on float32 as ot_unary_f32, except Erf and exact Gelu, which
   use branch-free vectorised polynomials (libm's erff is scalar, ~5 ns an
   element): erf within 2e-7 relative (1.5 ulp); Gelu within a few ulp.
   Used by every fused kernel, so fused results may differ from unfused
   Erf/Gelu by a few ulp. */
void ot_fused_unary_f32(ot_unary_op op, const ot_unary_params *p, const float *x, float *y, int64_t n);
/* Add, Sub, Mul, Div (a_step / b_step: 1 a run of n, 0 one value) and the
   common gradient maps, as the unfused kernels compute them; false for an
   op without a loop here (the caller uses the unfused kernel's). */
bool ot_fused_binary_f32(ot_binary_op op, float *o, const float *a, int a_step, const float *b, int b_step,
                         int64_t n);
bool ot_fused_ugrad_f32(ot_unary_grad_op op, const ot_unary_params *p, const float *dy, const float *v, float *dx,
                        int64_t n);

/* Runs the program.  out[0..n_out) have the broadcast shape of the inputs;
   out[n_out + j] receives the sum of register red_reg[j] over every axis but
   the last (shape (1, ..., 1, C) or (C)).  Inputs broadcast to the output
   (numpy rules); outputs must not overlap inputs. */
ot_status ot_cpu_fused_ew(const ot_fx_prog *p, const ot_tensor *const *in, ot_tensor *const *out);
/* Workspace bytes the reductions of a run of shape (rank, dims) ask for. */
size_t ot_cpu_fused_ew_workspace(const ot_fx_prog *p, int rank, const int64_t *dims);

/* ---- FusedGemm --------------------------------------------------------------- */
typedef struct ot_fgemm_args {
    bool trans_a, trans_b;
    int64_t M, N, K;
    double alpha, beta;
    const void *A, *B;
    const void *C;          /* NULL: no bias */
    int64_t c_row, c_col;   /* C's element strides along M and N (0: broadcast) */
    bool has_act;
    ot_unary_op act;
    ot_unary_params act_p;
    void *Y;                /* (M, N) activated */
    void *Z;                /* (M, N) before the activation, or NULL */
} ot_fgemm_args;

/* float32 and float64; OT_ERR_UNSUPPORTED otherwise. */
ot_status ot_cpu_fused_gemm(ot_dtype dt, const ot_fgemm_args *a);

#endif
