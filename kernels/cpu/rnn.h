/* Recurrent layers on the CPU: ONNX RNN, GRU and LSTM, forward and
 * backpropagation through time.
 *
 * Shapes (layout 0; layout 1 swaps the first two axes of X and Y and the
 * first two of initial_h / initial_c / Y_h / Y_c):
 *   X (T, B, I)   W (nd, G*H, I)   R (nd, G*H, H)   B (nd, 2*G*H)
 *   initial_h, initial_c, Y_h, Y_c (nd, B, H)   P (nd, 3*H)
 *   Y (T, nd, B, H)
 * with G gates per kind: RNN 1 (i), GRU 3 (z, r, h), LSTM 4 (i, o, f, c).
 *
 * The forward runs the input projection of all time steps as one GEMM
 * (X W^T, (T*B, G*H)), then per step one GEMM H_{t-1} R^T for the batch
 * (GRU without linear_before_reset: one for z/r and one for (r . H_{t-1}) Rh^T)
 * and a fused elementwise pass over the gates.  Batch rows never interact,
 * so with several threads each takes a chunk of rows through all the steps
 * (ot_rnn_chunks): no synchronisation per step.  Batch entries whose
 * sequence (sequence_lens) has ended keep their state and get zeros in Y;
 * the reverse direction runs each sequence from its own last valid step.
 *
 * The backward recomputes the forward first (keeping the raw gate
 * pre-activations and the states that entered each step), then walks the
 * steps back: per step one GEMM dA R for dH_{t-1}, and at the end one GEMM
 * each for dX, dW and dR over all steps. */
#ifndef OT_KERNELS_CPU_RNN_H
#define OT_KERNELS_CPU_RNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "onnxtrain.h"

typedef enum ot_rnn_kind { OT_RNN_SIMPLE = 0, OT_RNN_GRU = 1, OT_RNN_LSTM = 2 } ot_rnn_kind;

typedef enum ot_rnn_act_kind {
    OT_RNN_ACT_RELU = 0,
    OT_RNN_ACT_TANH,
    OT_RNN_ACT_SIGMOID,
    OT_RNN_ACT_AFFINE,          /* alpha * x + beta */
    OT_RNN_ACT_LEAKYRELU,       /* x >= 0 ? x : alpha * x */
    OT_RNN_ACT_THRESHOLDEDRELU, /* x > alpha ? x : 0 */
    OT_RNN_ACT_SCALEDTANH,      /* alpha * tanh(beta * x) */
    OT_RNN_ACT_HARDSIGMOID,     /* min(max(alpha * x + beta, 0), 1) */
    OT_RNN_ACT_ELU,             /* x >= 0 ? x : alpha * (e^x - 1) */
    OT_RNN_ACT_SOFTSIGN,        /* x / (1 + |x|) */
    OT_RNN_ACT_SOFTPLUS,        /* log(1 + e^x) */
    OT_RNN_ACT_COUNT
} ot_rnn_act_kind;

typedef struct ot_rnn_act {
    int kind; /* ot_rnn_act_kind */
    float alpha, beta;
} ot_rnn_act;

/* Case-insensitive activation name -> kind, or -1. */
int ot_rnn_act_from_name(const char *name, size_t len);
const char *ot_rnn_act_name(int kind);
/* Which of alpha / beta an activation takes, and their defaults (those of
   the ONNX operator of the same name). */
bool ot_rnn_act_takes_alpha(int kind);
bool ot_rnn_act_takes_beta(int kind);
float ot_rnn_act_default_alpha(int kind);
float ot_rnn_act_default_beta(int kind);

static inline int ot_rnn_gates(ot_rnn_kind k) { return k == OT_RNN_LSTM ? 4 : k == OT_RNN_GRU ? 3 : 1; }
/* Activations per direction: RNN f; GRU f, g; LSTM f, g, h. */
static inline int ot_rnn_acts(ot_rnn_kind k) { return k == OT_RNN_LSTM ? 3 : k == OT_RNN_GRU ? 2 : 1; }

typedef struct ot_rnn_desc {
    ot_rnn_kind kind;
    int64_t T, B, I, H; /* seq_length, batch_size, input_size, hidden_size */
    int nd;             /* directions: 1, or 2 (bidirectional: forward then reverse) */
    bool reverse;       /* the single direction is "reverse" */
    int layout;         /* 0: X (T, B, I); 1: X (B, T, I) */
    double clip;        /* bound on every gate pre-activation; INFINITY: none */
    bool linear_before_reset; /* GRU */
    bool input_forget;        /* LSTM: f = 1 - i */
    ot_rnn_act act[2][3];     /* per direction: f, g, h */
} ot_rnn_desc;

/* Data in the op's dtype (float16, bfloat16, float32, float64); NULL: absent
   input / output not requested.  lens: (B) sequence lengths, each in [0, T]
   (checked by the caller), or NULL for all T. */
typedef struct ot_rnn_fwd_io {
    const void *X, *W, *R, *B, *h0, *c0, *P;
    const int64_t *lens;
    void *Y, *Yh, *Yc;
} ot_rnn_fwd_io;

/* Gradients: dY, dYh, dYc may be NULL (no gradient flows there); each of
   dX ... dP NULL when not wanted (dB needs B, dh0 h0, dc0 c0, dP P). */
typedef struct ot_rnn_bwd_io {
    ot_rnn_fwd_io f; /* the forward's inputs (its outputs are unused) */
    const void *dY, *dYh, *dYc;
    void *dX, *dW, *dR, *dB, *dh0, *dc0, *dP;
} ot_rnn_bwd_io;

/* Scratch bytes ot_rnn_forward / ot_rnn_backward take from the workspace. */
size_t ot_rnn_forward_scratch(const ot_rnn_desc *d, ot_dtype dt);
size_t ot_rnn_backward_scratch(const ot_rnn_desc *d, ot_dtype dt);

ot_status ot_rnn_forward(const ot_rnn_desc *d, ot_dtype dt, const ot_rnn_fwd_io *io);
ot_status ot_rnn_backward(const ot_rnn_desc *d, ot_dtype dt, const ot_rnn_bwd_io *io);

/* ---- internal to kernels/cpu/rnn*.c ------------------------------------------ */

/* What one direction's forward keeps for the backward, in X's row order
   (row (t, b): layout 0 t*B + b, layout 1 b*T + t); rows of steps past a
   sequence's end are zeroed. */
typedef struct ot_rnn_saved {
    void *pre;   /* (T*B, G*H) raw gate pre-activations (before clip) */
    void *hprev; /* (T*B, H) the hidden state that entered the step */
    void *cprev; /* (T*B, H) LSTM: the cell state that entered the step */
    void *extra; /* (T*B, H) GRU with linear_before_reset: H_{t-1} Rh^T + Rbh (the
                    backward overwrites it with its gradient); without: the
                    backward stores r . H_{t-1} there (Rh's input) */
} ot_rnn_saved;

/* Loops over all steps' rows run in parallel from this many elements. */
#define OT_RNN_PAR_MIN 32768

/* Batch chunks that run their steps in parallel (rows never interact, so no
   thread waits for another within the sequence): one per thread, or 1 when
   the batch is too small to split or the rows are few and wide (then BLAS
   splits each step's GEMM instead, and each thread reads only part of R). */
int ot_rnn_chunks(const ot_rnn_desc *d);

/* Row of X (and of the saved buffers) holding time t of batch entry b. */
static inline int64_t ot_rnn_row(const ot_rnn_desc *d, int64_t t, int64_t b) {
    return d->layout ? b * d->T + t : t * d->B + b;
}
/* Offset of (dir, b) in initial_h / Y_h-shaped tensors. */
static inline int64_t ot_rnn_state_off(const ot_rnn_desc *d, int dir, int64_t b) {
    return (d->layout ? b * d->nd + dir : dir * d->B + b) * d->H;
}
/* Offset of (t, dir, b) in Y. */
static inline int64_t ot_rnn_y_off(const ot_rnn_desc *d, int dir, int64_t t, int64_t b) {
    return (d->layout ? (b * d->T + t) * d->nd + dir : (t * d->nd + dir) * d->B + b) * d->H;
}
/* The time step s runs for batch entry b: false once its sequence ended. */
static inline bool ot_rnn_step_time(const ot_rnn_desc *d, const int64_t *lens, bool rev, int64_t s, int64_t b,
                                    int64_t *t) {
    const int64_t len = lens ? lens[b] : d->T;
    if (s >= len) return false;
    *t = rev ? len - 1 - s : s;
    return true;
}
/* Copies direction dir's (B, H) slice of an initial_h / Y_h-shaped tensor
   into a contiguous (B, H) state (zeros when src is NULL), and back. */
static inline void ot_rnn_load_state(const ot_rnn_desc *d, int dir, const void *src, void *dst, size_t es) {
    const size_t n = es * (size_t)d->H;
    for (int64_t b = 0; b < d->B; b++) {
        char *o = (char *)dst + (size_t)b * n;
        if (src) memcpy(o, (const char *)src + es * (size_t)ot_rnn_state_off(d, dir, b), n);
        else memset(o, 0, n);
    }
}
static inline void ot_rnn_store_state(const ot_rnn_desc *d, int dir, const void *src, void *dst, size_t es) {
    const size_t n = es * (size_t)d->H;
    if (dst)
        for (int64_t b = 0; b < d->B; b++)
            memcpy((char *)dst + es * (size_t)ot_rnn_state_off(d, dir, b), (const char *)src + (size_t)b * n, n);
}
/* One direction (dir: 0 or 1, rev: runs backwards in time) of the forward
   in float32 / float64.  sv NULL: inference, and scratch also holds the gate
   rows (T*B*G*H elements after the first ot_rnn_dir_scratch). */
size_t ot_rnn_dir_scratch(const ot_rnn_desc *d);
void ot_rnn_fwd_dir_f32(const ot_rnn_desc *d, int dir, bool rev, const ot_rnn_fwd_io *io, const ot_rnn_saved *sv,
                        float *scratch);
void ot_rnn_fwd_dir_f64(const ot_rnn_desc *d, int dir, bool rev, const ot_rnn_fwd_io *io, const ot_rnn_saved *sv,
                        double *scratch);

/* Element counts of X, W, R, B, h0, c0, P, Y, Yh, Yc. */
void ot_rnn_counts(const ot_rnn_desc *d, int64_t n[10]);
/* float16 / bfloat16 staging: float32 buffers dst[i] for the present src[i]
   (n[i] elements; converted when convert[i]), all in one workspace block. */
ot_status ot_rnn_stage(ot_dtype dt, int count, const void *const *src, const int64_t *n, bool *convert, float **dst,
                       void **block);

#endif
