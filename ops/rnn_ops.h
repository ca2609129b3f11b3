/* Shared between ops/rnn.c (the family table, RNN / GRU / LSTM) and
 * ops/rnn_grad.c (their gradient rules and the ai.onnxtrain gradient ops
 * RNNGrad / GRUGrad / LSTMGrad). */
#ifndef OT_OPS_RNN_OPS_H
#define OT_OPS_RNN_OPS_H

#include "../kernels/cpu/rnn.h"
#include "grad.h"

typedef struct ot_rnn_attrs {
    ot_rnn_kind kind;
    int64_t hidden_size; /* -1: not given (R's shape says) */
    int nd;              /* 1 or 2 */
    bool reverse;        /* direction "reverse" */
    int layout;          /* 0 or 1 (attribute from opset 14) */
    double clip;         /* INFINITY: no clip */
    bool linear_before_reset, input_forget;
    ot_rnn_act act[2][3]; /* resolved: names, alpha / beta with their defaults */
    int64_t grads;        /* gradient ops: bit k set = output k is computed */
} ot_rnn_attrs;

/* Gradient ops: the forward's inputs (RNN / GRU: 6, LSTM: 8), then dY,
   dY_h (and dY_c).  Outputs dX, dW, dR, dB, dinitial_h (and dinitial_c, dP).
   Attributes: those of the forward, except `activations` is one STRING
   (names joined by commas, one per activation and direction) with `alphas`
   and `betas` one value each (defaults resolved), and `grads`. */
#define OT_RNN_GRAD_ATTRS "activations,alphas,betas,clip,direction,grads,hidden_size,input_forget,layout,linear_before_reset"
ot_status ot_rnn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_gru_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_lstm_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_rnn_grad_op_infer(ot_kctx *c);
ot_status ot_rnn_grad_op_cpu(ot_kctx *c);

/* Gradient rules of RNN, GRU, LSTM. */
ot_status ot_rnn_grad(ot_grad_ctx *g);

/* Helpers of ops/rnn.c. */
ot_status ot_rnn_parse_common(const ot_node *n, int64_t opset, ot_rnn_attrs *a, ot_rnn_kind kind, bool grad_op);
/* Validates the forward inputs in[0 .. nfwd) (X, W, R, B, sequence_lens,
   initial_h, initial_c, P) and fills *d. */
ot_status ot_rnn_geometry(ot_kctx *c, const ot_rnn_attrs *a, ot_rnn_desc *d);
/* dims of Y (rank 4) and of Y_h / Y_c (rank 3). */
void ot_rnn_y_dims(const ot_rnn_desc *d, int64_t *y, int64_t *state);
/* sequence_lens as int64 in [0, T] into lens (B of them); NULL input: *out NULL. */
ot_status ot_rnn_lens(ot_kctx *c, const ot_rnn_desc *d, int64_t **out);

#endif
