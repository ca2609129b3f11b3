/* Gradient checks for the rnn family: RNN, GRU and LSTM through their fused
 * backward ops (RNNGrad, GRUGrad, LSTMGrad), against central finite
 * differences in float64.  Every direction, both layouts, sequence_lens
 * (with a zero length and the reverse direction's per-sequence start), clip,
 * peepholes, input_forget, linear_before_reset 0 / 1, absent optional inputs,
 * an input without gradient (dX not computed), opsets 7 / 14 / 22, and
 * custom activations with alpha / beta.  Last, the float32, float16 and
 * bfloat16 backward kernels against the float64 one on a larger
 * bidirectional layer, and one thread against several. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/rnn.h"
#include "src/core/alloc.h"
#include "src/passes/autodiff.h"
#include "src/passes/infer.h"
#include "src/runtime/program.h"

#define NONE {GC_ABSENT}
/* sequence_lens for a batch of 2. */
#define LENS(a, b) {GC_CONST, OT_INT32, 1, {2}, (const int64_t[]){a, b}}
#define ACTS(...) {.name = "activations", .type = OT_ATTR_STRINGS, .strings = (const char *const[]){__VA_ARGS__}, \
                   .n = sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)}
#define AFS(k, ...) {.name = k, .type = OT_ATTR_FLOATS, .floats = (const float[]){__VA_ARGS__}, \
                     .n = sizeof((float[]){__VA_ARGS__}) / sizeof(float)}

/* T = 3, B = 2, I = 3, H = 2.  Layout 0: X (3, 2, 3), states (nd, 2, 2);
   layout 1: X (2, 3, 3), states (2, nd, 2). */
#define X0 D(3, 2, 3)
#define X1 D(2, 3, 3)

#define CASE(nm, op_, os, nin, nout, ins, na, ...) \
    {.name = nm, .op = op_, .opset = os, .n_in = nin, .n_out = nout, .in = ins, .n_attrs = na, .attrs = {__VA_ARGS__}, \
     .atol = 1e-7}
#define IN(...) {__VA_ARGS__}

static const gc_case cases[] = {
    /* RNN: W (nd, 2, 3), R (nd, 2, 2), B (nd, 4) */
    CASE("rnn_forward_opset7", "RNN", 7, 6, 2, IN(X0, D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, D(1, 2, 2)), 1,
         AI("hidden_size", 2)),
    CASE("rnn_reverse_layout1", "RNN", 14, 6, 2, IN(X1, D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, D(2, 1, 2)), 2,
         AS("direction", "reverse"), AI("layout", 1)),
    CASE("rnn_bidirectional_seq_lens", "RNN", 22, 6, 2, IN(X0, D(2, 2, 3), D(2, 2, 2), D(2, 4), LENS(3, 1), D(2, 2, 2)), 1,
         AS("direction", "bidirectional")),
    CASE("rnn_reverse_zero_length", "RNN", 14, 6, 2, IN(X0, D(1, 2, 3), D(1, 2, 2), D(1, 4), LENS(0, 2), D(1, 2, 2)), 1,
         AS("direction", "reverse")),
    CASE("rnn_clip_no_bias_no_h0", "RNN", 14, 3, 2, IN(X0, D(1, 2, 3), D(1, 2, 2)), 1, AF("clip", 0.4f)),
    CASE("rnn_x_not_differentiable", "RNN", 14, 6, 2, IN(ND(3, 2, 3), D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, ND(1, 2, 2)),
         0, AI("", 0)),

    /* GRU: W (nd, 6, 3), R (nd, 6, 2), B (nd, 12) */
    CASE("gru_forward_opset7", "GRU", 7, 6, 2, IN(X0, D(1, 6, 3), D(1, 6, 2), D(1, 12), NONE, D(1, 2, 2)), 0, AI("", 0)),
    CASE("gru_linear_before_reset", "GRU", 14, 6, 2, IN(X0, D(1, 6, 3), D(1, 6, 2), D(1, 12), NONE, D(1, 2, 2)), 1,
         AI("linear_before_reset", 1)),
    CASE("gru_bidirectional_seq_lens", "GRU", 14, 6, 2, IN(X0, D(2, 6, 3), D(2, 6, 2), D(2, 12), LENS(2, 3), D(2, 2, 2)),
         1, AS("direction", "bidirectional")),
    CASE("gru_bidir_lbr_layout1_seq", "GRU", 22, 6, 2, IN(X1, D(2, 6, 3), D(2, 6, 2), D(2, 12), LENS(1, 3), D(2, 2, 2)),
         3, AS("direction", "bidirectional"), AI("layout", 1), AI("linear_before_reset", 1)),
    CASE("gru_reverse_clip", "GRU", 14, 6, 2, IN(X0, D(1, 6, 3), D(1, 6, 2), D(1, 12), NONE, D(1, 2, 2)), 2,
         AS("direction", "reverse"), AF("clip", 0.5f)),
    CASE("gru_lbr_clip_no_bias", "GRU", 14, 3, 2, IN(X0, D(1, 6, 3), D(1, 6, 2)), 2, AI("linear_before_reset", 1),
         AF("clip", 0.5f)),

    /* LSTM: W (nd, 8, 3), R (nd, 8, 2), B (nd, 16), P (nd, 6) */
    CASE("lstm_forward_opset7", "LSTM", 7, 7, 3, IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), NONE, D(1, 2, 2), D(1, 2, 2)),
         0, AI("", 0)),
    CASE("lstm_peepholes_seq_lens", "LSTM", 14, 8, 3,
         IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), LENS(3, 2), D(1, 2, 2), D(1, 2, 2), D(1, 6)), 0, AI("", 0)),
    CASE("lstm_input_forget_peepholes", "LSTM", 14, 8, 3,
         IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), NONE, D(1, 2, 2), D(1, 2, 2), D(1, 6)), 1, AI("input_forget", 1)),
    CASE("lstm_bidirectional_layout1", "LSTM", 22, 8, 3,
         IN(X1, D(2, 8, 3), D(2, 8, 2), D(2, 16), LENS(3, 1), D(2, 2, 2), D(2, 2, 2), D(2, 6)), 2,
         AS("direction", "bidirectional"), AI("layout", 1)),
    CASE("lstm_reverse_zero_length", "LSTM", 14, 8, 3,
         IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), LENS(2, 0), D(1, 2, 2), D(1, 2, 2), D(1, 6)), 1,
         AS("direction", "reverse")),
    CASE("lstm_clip", "LSTM", 14, 8, 3, IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), NONE, D(1, 2, 2), D(1, 2, 2), D(1, 6)),
         1, AF("clip", 0.3f)),
    CASE("lstm_only_x_w_r", "LSTM", 14, 3, 3, IN(X0, D(1, 8, 3), D(1, 8, 2)), 0, AI("", 0)),
    CASE("lstm_x_w_not_differentiable", "LSTM", 14, 8, 3,
         IN(ND(3, 2, 3), ND(1, 8, 3), D(1, 8, 2), D(1, 16), NONE, ND(1, 2, 2), D(1, 2, 2), D(1, 6)), 0, AI("", 0)),

    /* custom activations, with alpha / beta */
    CASE("rnn_affine_relu_bidir", "RNN", 14, 6, 2, IN(X0, D(2, 2, 3), D(2, 2, 2), D(2, 4), NONE, D(2, 2, 2)), 4,
          AS("direction", "bidirectional"), AFS("activation_alpha", 0.7f), AFS("activation_beta", 0.2f), ACTS("Affine", "Relu")),
    CASE("rnn_softplus", "RNN", 14, 6, 2, IN(X0, D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, D(1, 2, 2)), 1, ACTS("Softplus")),
    CASE("rnn_thresholdedrelu", "RNN", 14, 6, 2, IN(X0, D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, D(1, 2, 2)), 2,
          AFS("activation_alpha", 0.1f), ACTS("ThresholdedRelu")),
    CASE("rnn_leakyrelu_default_alpha_clip", "RNN", 14, 6, 2, IN(X0, D(1, 2, 3), D(1, 2, 2), D(1, 4), NONE, D(1, 2, 2)),
          2, AF("clip", 0.6f), ACTS("LeakyRelu")),
    CASE("gru_hardsigmoid_scaledtanh", "GRU", 14, 6, 2, IN(X0, D(1, 6, 3), D(1, 6, 2), D(1, 12), NONE, D(1, 2, 2)), 3,
          AFS("activation_alpha", 0.3f, 1.5f), AFS("activation_beta", 0.45f, 0.8f), ACTS("HardSigmoid", "ScaledTanh")),
    CASE("gru_lbr_softsign_elu_bidir", "GRU", 14, 6, 2, IN(X0, D(2, 6, 3), D(2, 6, 2), D(2, 12), LENS(3, 2), D(2, 2, 2)),
          4, AS("direction", "bidirectional"), AI("linear_before_reset", 1), AFS("activation_alpha", 0.5f), ACTS("Softsign", "Elu", "sigmoid", "tanh")),
    CASE("lstm_hardsigmoid_elu_affine", "LSTM", 14, 8, 3,
          IN(X0, D(1, 8, 3), D(1, 8, 2), D(1, 16), NONE, D(1, 2, 2), D(1, 2, 2), D(1, 6)), 3,
          AFS("activation_alpha", 0.9f, 1.3f), AFS("activation_beta", -0.2f), ACTS("HardSigmoid", "Elu", "Affine")),
    CASE("lstm_bidir_mixed_clip", "LSTM", 14, 8, 3,
          IN(X0, D(2, 8, 3), D(2, 8, 2), D(2, 16), NONE, D(2, 2, 2), D(2, 2, 2), D(2, 6)), 4,
          AS("direction", "bidirectional"), AF("clip", 0.7f), AFS("activation_alpha", 0.02f), ACTS("Sigmoid", "Tanh", "Softsign", "LeakyRelu", "Softplus", "Tanh")),
};

/* ---- float32 / float16 backward kernels against float64 -------------------------------- */

static uint64_t rg_state; /* xorshift64*: the same values on every machine */

static double rg_uniform(void) {
    rg_state ^= rg_state >> 12;
    rg_state ^= rg_state << 25;
    rg_state ^= rg_state >> 27;
    return (double)((rg_state * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
}

/* The backward of a bidirectional layer with sequence_lens (a zero length
   included) in dtype dt against float64 on the same (rounded) inputs; errors
   relative to the largest gradient value of each output. */
static int check_low_precision_backward(ot_rnn_kind kind, bool lbr, ot_dtype dt, double tol) {
    ot_rnn_desc d = {.kind = kind, .T = 7, .B = 5, .I = 6, .H = 9, .nd = 2, .layout = 0, .clip = INFINITY,
                     .linear_before_reset = lbr};
    const int per = ot_rnn_acts(kind);
    static const int dflt[3] = {OT_RNN_ACT_SIGMOID, OT_RNN_ACT_TANH, OT_RNN_ACT_TANH};
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < per; i++) d.act[dir][i] = (ot_rnn_act){kind == OT_RNN_SIMPLE ? OT_RNN_ACT_TANH : dflt[i], 0, 0};
    int64_t n[10];
    ot_rnn_counts(&d, n);
    /* Inputs X, W, R, B, h0, c0, P, and dY, dYh, dYc; outputs dX ... dP. */
    int64_t cnt[17];
    for (int i = 0; i < 17; i++) cnt[i] = i < 10 ? n[i] : n[i - 10];
    const size_t es = dt == OT_FLOAT ? 4 : 2;
    double *dd[17];
    void *ll[17];
    rg_state = 12345;
    for (int i = 0; i < 17; i++) {
        dd[i] = calloc((size_t)cnt[i], sizeof(double));
        ll[i] = calloc((size_t)cnt[i], es);
        for (int64_t k = 0; k < cnt[i] && i < 10; k++) {
            ot_store_f64(dt, ll[i], k, 0.8 * rg_uniform());
            dd[i][k] = ot_load_f64(dt, ll[i], k);
        }
    }
    int64_t lens[5] = {7, 3, 0, 6, 7};
    bool lstm = kind == OT_RNN_LSTM;
#define IO(p) {{p[0], p[1], p[2], p[3], p[4], lstm ? p[5] : NULL, lstm ? p[6] : NULL, lens, NULL, NULL, NULL}, \
               p[7], p[8], lstm ? p[9] : NULL, p[10], p[11], p[12], p[13], p[14], lstm ? p[15] : NULL, lstm ? p[16] : NULL}
    ot_rnn_bwd_io iod = IO(dd), iol = IO(ll);
#undef IO
    ot_status s1 = ot_rnn_backward(&d, OT_DOUBLE, &iod), s2 = ot_rnn_backward(&d, dt, &iol);
    int bad = s1 || s2;
    for (int i = 10; i < 17 && !bad; i++) {
        if (!lstm && i >= 15) continue;
        double big = 0;
        for (int64_t k = 0; k < cnt[i]; k++) big = fmax(big, fabs(dd[i][k]));
        for (int64_t k = 0; k < cnt[i]; k++) {
            const double got = ot_load_f64(dt, ll[i], k);
            if (!(fabs(got - dd[i][k]) <= tol * big)) {
                printf("%s backward kind %d lbr %d: output %d [%lld]: %.8g vs %.8g\n", ot_dtype_name(dt), (int)kind, lbr,
                       i - 10, (long long)k, got, dd[i][k]);
                bad = 1;
                break;
            }
        }
    }
    for (int i = 0; i < 17; i++) free(dd[i]), free(ll[i]);
    return bad;
}

/* With several threads the batch runs in chunks (ot_rnn_chunks): one thread
   and two (uneven chunks of 11 and 12 rows) must agree. */
static int check_parallel_backward(ot_rnn_kind kind, bool lbr) {
    ot_rnn_desc d = {.kind = kind, .T = 3, .B = 23, .I = 5, .H = 64, .nd = 2, .clip = 0.9, .linear_before_reset = lbr,
                     .input_forget = kind == OT_RNN_LSTM};
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < 3; i++) d.act[dir][i] = (ot_rnn_act){i ? OT_RNN_ACT_TANH : OT_RNN_ACT_SIGMOID, 0, 0};
    int64_t n[10];
    ot_rnn_counts(&d, n);
    int64_t cnt[17];
    for (int i = 0; i < 17; i++) cnt[i] = i < 10 ? n[i] : n[i - 10];
    double *a[17], *b[17];
    rg_state = 777;
    for (int i = 0; i < 17; i++) {
        a[i] = calloc((size_t)cnt[i], sizeof(double));
        b[i] = calloc((size_t)cnt[i], sizeof(double));
        for (int64_t k = 0; k < cnt[i] && i < 10; k++) a[i][k] = b[i][k] = 0.8 * rg_uniform();
    }
    int64_t lens[23] = {3, 1, 0, 2, 3, 3, 2, 1, 3, 0, 3, 2, 2, 3, 1, 3, 3, 3, 1, 2, 3, 0, 3};
    bool lstm = kind == OT_RNN_LSTM;
#define IO(p) {{p[0], p[1], p[2], p[3], p[4], lstm ? p[5] : NULL, lstm ? p[6] : NULL, lens, NULL, NULL, NULL}, \
               p[7], p[8], lstm ? p[9] : NULL, p[10], p[11], p[12], p[13], p[14], lstm ? p[15] : NULL, lstm ? p[16] : NULL}
    ot_rnn_bwd_io ioa = IO(a), iob = IO(b);
#undef IO
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    ot_status s1 = ot_rnn_backward(&d, OT_DOUBLE, &ioa);
    omp_set_num_threads(2);
    int chunks = ot_rnn_chunks(&d);
    ot_status s2 = ot_rnn_backward(&d, OT_DOUBLE, &iob);
    omp_set_num_threads(threads);
    int bad = s1 || s2 || chunks != 2;
    for (int i = 10; i < 17 && !bad; i++)
        for (int64_t k = 0; k < cnt[i] && !bad; k++)
            if (!(fabs(a[i][k] - b[i][k]) <= 1e-12 * (1 + fabs(a[i][k])))) {
                printf("parallel backward kind %d: output %d [%lld]: %.15g vs %.15g\n", (int)kind, i - 10, (long long)k,
                       a[i][k], b[i][k]);
                bad = 1;
            }
    for (int i = 0; i < 17; i++) free(a[i]), free(b[i]);
    return bad;
}

int main(void) {
    int rc = gc_run_all(cases, (int)(sizeof cases / sizeof cases[0]));
    int f32 = check_low_precision_backward(OT_RNN_LSTM, false, OT_FLOAT, 1e-5) +
              check_low_precision_backward(OT_RNN_GRU, false, OT_FLOAT, 1e-5) +
              check_low_precision_backward(OT_RNN_GRU, true, OT_FLOAT, 1e-5) +
              check_low_precision_backward(OT_RNN_SIMPLE, false, OT_FLOAT, 1e-5) +
              check_low_precision_backward(OT_RNN_LSTM, false, OT_FLOAT16, 5e-3) +
              check_low_precision_backward(OT_RNN_GRU, true, OT_BFLOAT16, 3e-2);
    printf("float32 / float16 / bfloat16 backward: %d failed\n", f32);
    int par = check_parallel_backward(OT_RNN_LSTM, false) + check_parallel_backward(OT_RNN_GRU, false) +
              check_parallel_backward(OT_RNN_GRU, true);
    printf("parallel backward: %d failed\n", par);
    return rc || f32 || par;
}
