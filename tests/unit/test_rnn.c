/* Unit tests of the rnn family's forward (RNN, GRU, LSTM) against a naive
 * reference written here from the spec's equations, in float64 and float32
 * (and float16 / bfloat16 once): every direction, both layouts,
 * sequence_lens (zero length included), clip, every activation with its
 * alpha / beta, peepholes, input_forget, linear_before_reset, absent
 * optional inputs and outputs.  Then the errors: attributes, shapes, types
 * and sequence_lens values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/rnn.h"
#include "unit/op_harness.h"

/* ---- the reference ------------------------------------------------------------------ */

static double ref_act(int kind, double a, double b, double x) {
    switch (kind) {
    case OT_RNN_ACT_RELU: return x > 0 ? x : 0;
    case OT_RNN_ACT_TANH: return tanh(x);
    case OT_RNN_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case OT_RNN_ACT_AFFINE: return a * x + b;
    case OT_RNN_ACT_LEAKYRELU: return x >= 0 ? x : a * x;
    case OT_RNN_ACT_THRESHOLDEDRELU: return x > a ? x : 0;
    case OT_RNN_ACT_SCALEDTANH: return a * tanh(b * x);
    case OT_RNN_ACT_HARDSIGMOID: return fmin(fmax(a * x + b, 0), 1);
    case OT_RNN_ACT_ELU: return x >= 0 ? x : a * (exp(x) - 1);
    case OT_RNN_ACT_SOFTSIGN: return x / (1 + fabs(x));
    default: return log(1 + exp(x)); /* Softplus */
    }
}

typedef struct cfg {
    const char *name;
    ot_rnn_kind kind;
    int opset;
    int dir;      /* 0 forward, 1 reverse, 2 bidirectional */
    int layout;
    int64_t T, B, I, H;
    const int64_t *lens; /* B of them, or NULL */
    float clip;          /* 0: none */
    int lbr, input_forget;
    const char *acts;    /* comma-separated, or NULL */
    int n_alpha, n_beta;
    float alpha[4], beta[4];
    bool no_b, no_h0, no_c0, no_p;
    unsigned outs; /* bit mask of Y, Y_h, Y_c requested; 0: all */
} cfg;

/* Resolved activations: alpha / beta consumed in order by those that take them. */
static int resolve_acts(const cfg *c, int nd, int per, ot_rnn_act act[2][3]) {
    static const int dflt[3][3] = {{OT_RNN_ACT_TANH}, {OT_RNN_ACT_SIGMOID, OT_RNN_ACT_TANH},
                                   {OT_RNN_ACT_SIGMOID, OT_RNN_ACT_TANH, OT_RNN_ACT_TANH}};
    int kinds[6], n = 0, ia = 0, ib = 0;
    for (const char *s = c->acts; s && *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        kinds[n++] = ot_rnn_act_from_name(s, len);
        s += len + (e ? 1 : 0);
    }
    for (int i = 0; i < per * nd; i++) {
        ot_rnn_act *a = &act[i / per][i % per];
        a->kind = n ? kinds[i] : dflt[c->kind][i % per];
        a->alpha = ot_rnn_act_default_alpha(a->kind);
        a->beta = ot_rnn_act_default_beta(a->kind);
        if (ot_rnn_act_takes_alpha(a->kind) && ia < c->n_alpha) a->alpha = c->alpha[ia++];
        if (ot_rnn_act_takes_beta(a->kind) && ib < c->n_beta) a->beta = c->beta[ib++];
    }
    return 0;
}

/* Inputs in their ONNX layouts; outputs likewise.  Straight from the equations. */
static void reference(const cfg *c, const double *X, const double *W, const double *R, const double *Bb, const double *h0,
                      const double *c0, const double *P, double *Y, double *Yh, double *Yc) {
    const int nd = c->dir == 2 ? 2 : 1, G = ot_rnn_gates(c->kind), per = ot_rnn_acts(c->kind);
    const int64_t T = c->T, B = c->B, I = c->I, H = c->H;
    ot_rnn_act act[2][3];
    resolve_acts(c, nd, per, act);
    const double clip = c->clip > 0 ? c->clip : INFINITY;
#define XAT(t, b, i) X[(c->layout ? ((b) * T + (t)) : ((t) * B + (b))) * I + (i)]
#define SOFF(d, b) ((c->layout ? (b) * nd + (d) : (d) * B + (b)) * H)
#define YOFF(t, d, b) ((c->layout ? ((b) * T + (t)) * nd + (d) : ((t) * nd + (d)) * B + (b)) * H)
#define F(k, v) ref_act(act[d][k].kind, act[d][k].alpha, act[d][k].beta, fmin(fmax((v), -clip), clip))
    double h[64], cc[64], g[256], nh[64];
    memset(Y, 0, sizeof(double) * (size_t)(T * nd * B * H));
    for (int d = 0; d < nd; d++) {
        const bool rev = c->dir == 1 || d == 1;
        const double *w = W + d * G * H * I, *r = R + d * G * H * H, *bb = Bb ? Bb + d * 2 * G * H : NULL;
        const double *p = P ? P + d * 3 * H : NULL;
        for (int64_t b = 0; b < B; b++) {
            const int64_t len = c->lens ? c->lens[b] : T;
            for (int64_t k = 0; k < H; k++) {
                h[k] = h0 ? h0[SOFF(d, b) + k] : 0;
                cc[k] = c0 ? c0[SOFF(d, b) + k] : 0;
            }
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                /* g = W x + Wb (+ R h + Rb except GRU's h gate) */
                for (int64_t j = 0; j < G * H; j++) {
                    double v = bb ? bb[j] : 0;
                    for (int64_t i = 0; i < I; i++) v += w[j * I + i] * XAT(t, b, i);
                    g[j] = v;
                }
                if (c->kind == OT_RNN_SIMPLE) {
                    for (int64_t j = 0; j < H; j++) {
                        double v = g[j] + (bb ? bb[H + j] : 0);
                        for (int64_t k = 0; k < H; k++) v += r[j * H + k] * h[k];
                        nh[j] = F(0, v);
                    }
                } else if (c->kind == OT_RNN_GRU) {
                    double z[64], rr[64];
                    for (int64_t j = 0; j < H; j++) {
                        double vz = g[j] + (bb ? bb[3 * H + j] : 0), vr = g[H + j] + (bb ? bb[4 * H + j] : 0);
                        for (int64_t k = 0; k < H; k++) vz += r[j * H + k] * h[k], vr += r[(H + j) * H + k] * h[k];
                        z[j] = F(0, vz);
                        rr[j] = F(0, vr);
                    }
                    for (int64_t j = 0; j < H; j++) {
                        const double rbh = bb ? bb[5 * H + j] : 0;
                        double v = g[2 * H + j], lin = rbh;
                        for (int64_t k = 0; k < H; k++) {
                            if (c->lbr) lin += r[(2 * H + j) * H + k] * h[k];
                            else v += r[(2 * H + j) * H + k] * rr[k] * h[k];
                        }
                        v += c->lbr ? rr[j] * lin : rbh;
                        const double n = F(1, v);
                        nh[j] = (1 - z[j]) * n + z[j] * h[j];
                    }
                } else {
                    double a[256], nc[64];
                    for (int64_t j = 0; j < 4 * H; j++) {
                        a[j] = g[j] + (bb ? bb[4 * H + j] : 0);
                        for (int64_t k = 0; k < H; k++) a[j] += r[j * H + k] * h[k];
                    }
                    for (int64_t j = 0; j < H; j++) {
                        const double i = F(0, a[j] + (p ? p[j] * cc[j] : 0));
                        const double f = c->input_forget ? 1 - i : F(0, a[2 * H + j] + (p ? p[2 * H + j] * cc[j] : 0));
                        nc[j] = f * cc[j] + i * F(1, a[3 * H + j]);
                        const double o = F(0, a[H + j] + (p ? p[H + j] * nc[j] : 0));
                        nh[j] = o * ref_act(act[d][2].kind, act[d][2].alpha, act[d][2].beta, nc[j]);
                    }
                    memcpy(cc, nc, sizeof(double) * (size_t)H);
                }
                memcpy(h, nh, sizeof(double) * (size_t)H);
                memcpy(Y + YOFF(t, d, b), h, sizeof(double) * (size_t)H);
            }
            memcpy(Yh + SOFF(d, b), h, sizeof(double) * (size_t)H);
            memcpy(Yc + SOFF(d, b), cc, sizeof(double) * (size_t)H);
        }
    }
#undef XAT
#undef SOFF
#undef YOFF
#undef F
}

/* ---- running one node ---------------------------------------------------------------- */

static const char *op_name(ot_rnn_kind k) { return k == OT_RNN_LSTM ? "LSTM" : k == OT_RNN_GRU ? "GRU" : "RNN"; }

/* Builds, parses, infers and runs the node; out[k] NULL: output k absent. */
static ot_status run_node(const cfg *c, ot_tensor **in, int n_in, ot_tensor **out, int n_out) {
    ot_graph *g;
    ot_graph_new("t", &g);
    int ids_in[8], ids_out[3], node;
    char name[16];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        ot_graph_value(g, name, &ids_in[i]);
        if (!in[i]) ids_in[i] = -1;
    }
    for (int i = 0; i < n_out; i++) {
        snprintf(name, sizeof name, "out%d", i);
        ot_graph_value(g, name, &ids_out[i]);
        if (!out[i]) ids_out[i] = -1;
    }
    ot_graph_add_node(g, op_name(c->kind), "", "mynode", n_in, ids_in, n_out, ids_out, &node);
    ot_attr *a;
    ot_node_add_attr(g, node, "hidden_size", OT_ATTR_INT, &a);
    a->i = c->H;
    static const char *dirs[3] = {"forward", "reverse", "bidirectional"};
    ot_node_add_attr(g, node, "direction", OT_ATTR_STRING, &a);
    a->s = ot_strdup(dirs[c->dir]);
    a->s_len = strlen(a->s);
    if (c->layout || c->opset >= 14) ot_node_add_attr(g, node, "layout", OT_ATTR_INT, &a), a->i = c->layout;
    if (c->clip) ot_node_add_attr(g, node, "clip", OT_ATTR_FLOAT, &a), a->f = c->clip;
    if (c->lbr) ot_node_add_attr(g, node, "linear_before_reset", OT_ATTR_INT, &a), a->i = c->lbr;
    if (c->input_forget) ot_node_add_attr(g, node, "input_forget", OT_ATTR_INT, &a), a->i = c->input_forget;
    if (c->acts) {
        ot_node_add_attr(g, node, "activations", OT_ATTR_STRINGS, &a);
        a->strings = ot_calloc(8, sizeof(char *));
        for (const char *s = c->acts; *s;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            a->strings[a->n++] = ot_strndup(s, len);
            s += len + (e ? 1 : 0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int n = k ? c->n_beta : c->n_alpha;
        if (!n) continue;
        ot_node_add_attr(g, node, k ? "activation_beta" : "activation_alpha", OT_ATTR_FLOATS, &a);
        a->floats = ot_malloc(sizeof(float) * (size_t)n);
        memcpy(a->floats, k ? c->beta : c->alpha, sizeof(float) * (size_t)n);
        a->n = n;
    }
    const ot_op_def *def = ot_op_resolve("", op_name(c->kind), c->opset);
    ot_status s = def ? OT_OK : ot_error(OT_ERR_UNSUPPORTED, "no %s at opset %d", op_name(c->kind), c->opset);
    void *attrs = calloc(1, def ? def->attrs_size : 1);
    const ot_node *n = &g->nodes[node];
    if (!s) s = def->parse(n, c->opset, attrs);
    ot_kctx k = {.node = n, .name = "mynode", .opset = c->opset, .attrs = attrs, .n_in = n_in, .in = in, .n_out = n_out,
                 .out = out, .need_input = -1};
    if (!s) s = def->infer(&k);
    for (int i = 0; i < n_out && !s; i++)
        if (out[i]) s = ot_tensor_alloc_data(out[i]);
    if (!s) s = def->cpu(&k);
    free(attrs);
    ot_graph_free(g);
    return s;
}

/* ---- one configuration ----------------------------------------------------------------- */

static double *rand_vals(int64_t n, double scale) {
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = rand_unit() * scale;
    return v;
}

static ot_tensor *from_f64(ot_dtype dt, int rank, const int64_t *dims, const double *v) {
    ot_tensor *t = tensor(dt, rank, dims, NULL);
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) ot_store_f64(dt, t->data, i, v[i]);
    return t;
}

static void run_cfg(const cfg *c, ot_dtype dt, double tol) {
    const int nd = c->dir == 2 ? 2 : 1, G = ot_rnn_gates(c->kind);
    const bool lstm = c->kind == OT_RNN_LSTM;
    const int64_t T = c->T, B = c->B, I = c->I, H = c->H;
    const int64_t xd[3] = {c->layout ? B : T, c->layout ? T : B, I}, wd[3] = {nd, G * H, I}, rd[3] = {nd, G * H, H};
    const int64_t bd[2] = {nd, 2 * G * H}, pd[2] = {nd, 3 * H}, sd[3] = {c->layout ? B : nd, c->layout ? nd : B, H};
    const int64_t yd[4] = {c->layout ? B : T, c->layout ? T : nd, c->layout ? nd : B, H}, ld[1] = {B};
    double *X = rand_vals(T * B * I, 1), *W = rand_vals(nd * G * H * I, 0.8), *R = rand_vals(nd * G * H * H, 0.8);
    double *Bb = c->no_b ? NULL : rand_vals(nd * 2 * G * H, 0.5), *h0 = c->no_h0 ? NULL : rand_vals(nd * B * H, 1);
    double *c0 = lstm && !c->no_c0 ? rand_vals(nd * B * H, 1) : NULL, *P = lstm && !c->no_p ? rand_vals(nd * 3 * H, 0.5) : NULL;
    double *Y = calloc((size_t)(T * nd * B * H + 1), sizeof(double)), *Yh = calloc((size_t)(nd * B * H + 1), sizeof(double));
    double *Yc = calloc((size_t)(nd * B * H + 1), sizeof(double));
    /* Low-precision types: the reference sees the rounded inputs. */
    double *vals[7] = {X, W, R, Bb, h0, c0, P};
    const int64_t cnt[7] = {T * B * I, nd * G * H * I, nd * G * H * H, nd * 2 * G * H, nd * B * H, nd * B * H, nd * 3 * H};
    for (int i = 0; i < 7; i++)
        for (int64_t k = 0; vals[i] && k < cnt[i]; k++) {
            uint16_t tmp[4];
            ot_store_f64(dt, tmp, 0, vals[i][k]);
            vals[i][k] = ot_load_f64(dt, tmp, 0);
        }
    reference(c, X, W, R, Bb, h0, c0, P, Y, Yh, Yc);

    ot_tensor *in[8] = {from_f64(dt, 3, xd, X), from_f64(dt, 3, wd, W), from_f64(dt, 3, rd, R),
                        Bb ? from_f64(dt, 2, bd, Bb) : NULL, NULL, h0 ? from_f64(dt, 3, sd, h0) : NULL,
                        c0 ? from_f64(dt, 3, sd, c0) : NULL, P ? from_f64(dt, 2, pd, P) : NULL};
    if (c->lens) {
        in[4] = tensor(OT_INT32, 1, ld, NULL);
        for (int64_t b = 0; b < B; b++) ((int32_t *)in[4]->data)[b] = (int32_t)c->lens[b];
    }
    int n_in = lstm ? 8 : 6, n_out = lstm ? 3 : 2;
    while (n_in > 3 && !in[n_in - 1]) n_in--;
    ot_tensor *out[3] = {0};
    for (int k = 0; k < n_out; k++)
        if (!c->outs || (c->outs >> k & 1)) ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[k]);
    ot_status s = run_node(c, in, n_in, out, n_out);
    CHECK_MSG(s == OT_OK, "%s (%s): %s", c->name, ot_dtype_name(dt), ot_last_error());
    if (!s) {
        char what[128];
        const double *want[3] = {Y, Yh, Yc};
        for (int k = 0; k < n_out; k++) {
            if (!out[k]) continue;
            snprintf(what, sizeof what, "%s %s output %d", c->name, ot_dtype_name(dt), k);
            const int rank = k ? 3 : 4;
            CHECK_MSG(out[k]->dtype == dt && ot_shape_equal(out[k]->rank, out[k]->dims, rank, k ? sd : yd), "%s: shape", what);
            check_all(what, out[k], want[k], ot_tensor_numel(out[k]), tol);
        }
    }
    for (int i = 0; i < 8; i++) ot_tensor_free(in[i]);
    for (int k = 0; k < 3; k++) ot_tensor_free(out[k]);
    for (int i = 0; i < 7; i++) free(vals[i]);
    free(Y), free(Yh), free(Yc);
}

static const int64_t lens4[4] = {5, 2, 0, 4}, lens3[3] = {3, 5, 1};

static const cfg cfgs[] = {
    {"rnn_forward_opset7", OT_RNN_SIMPLE, 7, 0, 0, 5, 3, 4, 6},
    {"rnn_reverse_lens", OT_RNN_SIMPLE, 14, 1, 0, 5, 4, 3, 5, lens4},
    {"rnn_bidir_layout1_lens", OT_RNN_SIMPLE, 22, 2, 1, 5, 3, 4, 6, lens3},
    {"rnn_clip_relu", OT_RNN_SIMPLE, 14, 0, 0, 4, 3, 4, 5, .clip = 0.5f, .acts = "Relu"},
    {"rnn_default_pair", OT_RNN_SIMPLE, 14, 0, 0, 4, 2, 3, 5, .acts = "Tanh,Tanh"},
    {"rnn_affine_leaky_bidir", OT_RNN_SIMPLE, 14, 2, 0, 4, 2, 3, 5, .acts = "affine,LEAKYRELU", .n_alpha = 2,
     .alpha = {0.6f, 0.1f}, .n_beta = 1, .beta = {0.25f}},
    {"rnn_thresholded", OT_RNN_SIMPLE, 14, 0, 0, 4, 2, 3, 5, .acts = "ThresholdedRelu", .n_alpha = 1, .alpha = {0.2f}},
    {"rnn_scaledtanh_defaults", OT_RNN_SIMPLE, 14, 0, 0, 4, 2, 3, 5, .acts = "ScaledTanh"},
    {"rnn_elu", OT_RNN_SIMPLE, 14, 1, 0, 4, 2, 3, 5, .acts = "Elu", .n_alpha = 1, .alpha = {0.4f}},
    {"rnn_softplus", OT_RNN_SIMPLE, 14, 0, 0, 4, 2, 3, 5, .acts = "Softplus"},
    {"rnn_no_optional_only_yh", OT_RNN_SIMPLE, 14, 0, 0, 4, 2, 3, 5, .no_b = true, .no_h0 = true, .outs = 2},

    {"gru_forward_opset7", OT_RNN_GRU, 7, 0, 0, 5, 3, 4, 6},
    {"gru_lbr", OT_RNN_GRU, 14, 0, 0, 5, 3, 4, 6, .lbr = 1},
    {"gru_reverse_lens_lbr", OT_RNN_GRU, 14, 1, 0, 5, 4, 3, 5, lens4, .lbr = 1},
    {"gru_bidir_layout1_lens", OT_RNN_GRU, 22, 2, 1, 5, 3, 4, 6, lens3},
    {"gru_clip", OT_RNN_GRU, 14, 2, 0, 4, 3, 4, 5, .clip = 0.3f},
    {"gru_acts", OT_RNN_GRU, 14, 0, 0, 4, 3, 4, 5, .acts = "HardSigmoid,Softsign", .n_alpha = 1, .alpha = {0.3f},
     .n_beta = 1, .beta = {0.4f}},
    {"gru_acts_bidir_lbr", OT_RNN_GRU, 14, 2, 0, 4, 3, 4, 5, .lbr = 1, .acts = "Sigmoid,Elu,Relu,ScaledTanh",
     .n_alpha = 2, .alpha = {0.9f, 1.2f}, .n_beta = 1, .beta = {0.7f}},
    {"gru_no_bias_only_y", OT_RNN_GRU, 14, 0, 1, 4, 3, 4, 5, .no_b = true, .no_h0 = true, .outs = 1},

    {"lstm_forward_opset7", OT_RNN_LSTM, 7, 0, 0, 5, 3, 4, 6, .no_p = true},
    {"lstm_peepholes", OT_RNN_LSTM, 14, 0, 0, 5, 3, 4, 6},
    {"lstm_reverse_lens", OT_RNN_LSTM, 14, 1, 0, 5, 4, 3, 5, lens4},
    {"lstm_bidir_layout1_lens", OT_RNN_LSTM, 22, 2, 1, 5, 3, 4, 6, lens3},
    {"lstm_input_forget_clip", OT_RNN_LSTM, 14, 2, 0, 4, 3, 4, 5, .clip = 0.4f, .input_forget = 1},
    {"lstm_acts", OT_RNN_LSTM, 14, 0, 0, 4, 3, 4, 5, .acts = "HardSigmoid,Softsign,Elu", .n_alpha = 2,
     .alpha = {0.25f, 0.8f}, .n_beta = 1, .beta = {0.45f}},
    {"lstm_acts_bidir", OT_RNN_LSTM, 14, 2, 0, 4, 3, 4, 5, .acts = "Sigmoid,Tanh,Tanh,Sigmoid,LeakyRelu,Softplus"},
    {"lstm_only_yc", OT_RNN_LSTM, 14, 0, 0, 4, 3, 4, 5, .no_c0 = true, .no_h0 = true, .outs = 4},
    {"lstm_bigger", OT_RNN_LSTM, 14, 2, 0, 7, 9, 11, 33, .clip = 2.0f},
};

/* ---- errors ---------------------------------------------------------------------------- */

static void expect_error(const char *what, cfg c, ot_status want, int64_t bad_w0, int64_t bad_len) {
    const int nd = c.dir == 2 ? 2 : 1, G = ot_rnn_gates(c.kind);
    const int64_t xd[3] = {c.T, c.B, c.I}, wd[3] = {bad_w0 ? bad_w0 : nd, G * c.H, c.I}, rd[3] = {nd, G * c.H, c.H};
    const int64_t ld[1] = {c.B};
    ot_tensor *in[8] = {rand_tensor(OT_FLOAT, 3, xd, 1), rand_tensor(OT_FLOAT, 3, wd, 1), rand_tensor(OT_FLOAT, 3, rd, 1)};
    int n_in = 3;
    if (bad_len) {
        in[4] = tensor(OT_INT32, 1, ld, NULL);
        for (int64_t b = 0; b < c.B; b++) ((int32_t *)in[4]->data)[b] = (int32_t)(b ? bad_len : 1);
        n_in = 5;
    }
    ot_tensor *out[2];
    ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[0]);
    ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[1]);
    ot_status s = run_node(&c, in, n_in, out, 2);
    CHECK_MSG(s == want, "%s: got %s (%s), want %s", what, ot_status_name(s), ot_last_error(), ot_status_name(want));
    for (int i = 0; i < 8; i++) ot_tensor_free(in[i]);
    ot_tensor_free(out[0]);
    ot_tensor_free(out[1]);
}

static void test_errors(void) {
    const cfg base = {"err", OT_RNN_GRU, 14, 0, 0, 3, 2, 3, 4};
    cfg c = base;
    c.acts = "Sigmoid,Swish";
    expect_error("unknown activation", c, OT_ERR_UNSUPPORTED, 0, 0);
    c = base, c.acts = "Sigmoid";
    expect_error("one activation for GRU", c, OT_ERR_PARSE, 0, 0);
    c = base, c.layout = 1, c.opset = 7;
    expect_error("layout at opset 7", c, OT_ERR_UNSUPPORTED, 0, 0);
    c = base, c.clip = -1;
    expect_error("negative clip", c, OT_ERR_PARSE, 0, 0);
    c = base;
    expect_error("W for two directions", c, OT_ERR_SHAPE, 2, 0);
    expect_error("sequence_lens beyond seq_length", c, OT_ERR_INVALID_ARG, 0, 4);
    expect_error("negative sequence_lens", c, OT_ERR_INVALID_ARG, 0, -1);
    c = base, c.H = 5; /* hidden_size disagrees with R */
    {
        const int64_t xd[3] = {3, 2, 3}, wd[3] = {1, 12, 3}, rd[3] = {1, 12, 4};
        ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 3, xd, 1), rand_tensor(OT_FLOAT, 3, wd, 1), rand_tensor(OT_FLOAT, 3, rd, 1)};
        ot_tensor *out[2];
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[0]);
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[1]);
        ot_status s = run_node(&c, in, 3, out, 2);
        CHECK_MSG(s == OT_ERR_SHAPE, "hidden_size mismatch: %s", ot_status_name(s));
        for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
        ot_tensor_free(out[0]), ot_tensor_free(out[1]);
    }
    /* An integer X */
    {
        const int64_t xd[3] = {3, 2, 3}, wd[3] = {1, 12, 3}, rd[3] = {1, 12, 4};
        ot_tensor *in[3] = {rand_tensor(OT_INT32, 3, xd, 1), rand_tensor(OT_FLOAT, 3, wd, 1), rand_tensor(OT_FLOAT, 3, rd, 1)};
        ot_tensor *out[2];
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[0]);
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[1]);
        c = base;
        ot_status s = run_node(&c, in, 3, out, 2);
        CHECK_MSG(s == OT_ERR_UNSUPPORTED, "int32 X: %s", ot_status_name(s));
        for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
        ot_tensor_free(out[0]), ot_tensor_free(out[1]);
    }
}

static const cfg *find_cfg(const char *name) {
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++)
        if (!strcmp(cfgs[i].name, name)) return &cfgs[i];
    return NULL;
}

int main(void) {
    const int n = (int)(sizeof cfgs / sizeof cfgs[0]);
    for (int i = 0; i < n; i++) {
        run_cfg(&cfgs[i], OT_DOUBLE, 1e-12);
        run_cfg(&cfgs[i], OT_FLOAT, 2e-5);
    }
    run_cfg(find_cfg("lstm_bidir_layout1_lens"), OT_FLOAT16, 1e-2);
    run_cfg(find_cfg("gru_bidir_layout1_lens"), OT_BFLOAT16, 3e-2);
    test_errors();
    return check_done();
}
