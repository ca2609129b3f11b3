/* Floating-point operations of a compiled program's steps, from the shapes
 * it was compiled for: the GFLOP/s figures of `onnxtrain bench`. */
#include "flops.h"

#include <string.h>

#include "../../kernels/cpu/einsum.h"
#include "../core/alloc.h"

/* ---- FLOPs per step ---------------------------------------------------------
 * A multiply-add is 2 FLOPs.  Contractions count their multiply-adds from the
 * slot shapes; every other op counts one FLOP per output element (a copy or
 * a view counts as much as an add: a rough figure for memory-bound ops).
 *
 *   MatMul, FusedMatMul   Y (..., M, N), K from A:          2 * |Y| * K
 *   Gemm, FusedGemm       Y (M, N), K from A (transA):       2 * |Y| * K  (+ |Y| with C,
 *                                                             + |Y| with an activation)
 *   Conv, ConvTranspose,  W (A, B, k...) and T the side      2 * |T| * |W| / A  (+ |Y| with a bias)
 *   ConvGradInput,        whose channels are A (Conv: Y,
 *   ConvGradWeight        ConvTranspose: X; the gradients
 *                         the same sides as their forward)
 *   Einsum                the product of every label's size, x2 with more
 *                         than one operand (a naive loop nest)
 *   FusedElementwise      |largest output| per instruction and reduction
 *   Attention             Q K^T and P V: 2 * (|Q| + |Y|) * T, T the keys (with the past ones)
 *   AttentionGrad         P recomputed, then dP, dV, dQ, dK: 2 * (3 |Q| + 2 |dY|) * T
 *   RNN, GRU, LSTM        X W^T and H R^T for the T * B rows of X: 2 * (|X| / I) * (|W| + |R|)
 *   RNNGrad, ...          the forward recomputed, then dH R, dX, dW, dR: 3x the forward */

static const ot_tensor *ot_slot(const ot_program *p, const int *ids, int n, int k) {
    return k < n && ids[k] >= 0 ? &p->slots[ids[k]] : NULL;
}

static double ot_numel_d(const ot_tensor *t) { return t ? (double)ot_tensor_numel(t) : 0; }

static double ot_outputs_numel(const ot_program *p, const ot_step *st) {
    double n = 0;
    for (int k = 0; k < st->n_out; k++) n += ot_numel_d(ot_slot(p, st->out, st->n_out, k));
    return n;
}

static int64_t ot_node_int(const ot_program *p, const ot_step *st, const char *name) {
    int64_t v = 0;
    if (ot_attr_get_int(&p->graph->nodes[st->node], name, 0, &v)) v = 0;
    return v;
}

static double ot_flops_matmul(const ot_program *p, const ot_step *st) {
    const ot_tensor *a = ot_slot(p, st->in, st->n_in, 0), *y = ot_slot(p, st->out, st->n_out, 0);
    if (!a || !y || a->rank < 1) return ot_outputs_numel(p, st);
    int64_t k = a->dims[a->rank - 1];
    if (a->rank >= 2 && ot_node_int(p, st, "transA")) k = a->dims[a->rank - 2]; /* FusedMatMul */
    return 2.0 * ot_numel_d(y) * (double)k;
}

/* Gemm; FusedGemm also takes A (..., K) (its leading dims are rows) and may
   apply an activation. */
static double ot_flops_gemm(const ot_program *p, const ot_step *st) {
    const ot_tensor *a = ot_slot(p, st->in, st->n_in, 0), *y = ot_slot(p, st->out, st->n_out, 0);
    if (!a || !y || a->rank < 1) return ot_outputs_numel(p, st);
    bool trans_a = ot_node_int(p, st, "transA") != 0;
    if (trans_a && a->rank != 2) return ot_outputs_numel(p, st);
    int64_t k = trans_a ? a->dims[0] : a->dims[a->rank - 1];
    double epilogue = ot_slot(p, st->in, st->n_in, 2) ? ot_numel_d(y) : 0;
    const char *act = NULL;
    if (!ot_attr_get_string(&p->graph->nodes[st->node], "activation", NULL, &act) && act && act[0])
        epilogue += ot_numel_d(y);
    return 2.0 * ot_numel_d(y) * (double)k + epilogue;
}

/* One per element and instruction (CONST loads excluded), over the largest
   output; its reductions are one add per element each. */
static double ot_flops_fused_elementwise(const ot_program *p, const ot_step *st) {
    const ot_attr *ops = ot_node_attr(&p->graph->nodes[st->node], "ops");
    if (!ops || ops->type != OT_ATTR_STRINGS) return ot_outputs_numel(p, st);
    double n = 0, elems = 0;
    for (int k = 0; k < ops->n; k++) n += strcmp(ops->strings[k], "CONST") != 0;
    for (int k = 0; k < st->n_out; k++) {
        double e = ot_numel_d(ot_slot(p, st->out, st->n_out, k));
        if (e > elems) elems = e;
    }
    int64_t n_red = 0;
    const int64_t *red;
    int cnt;
    if (!ot_attr_get_ints(&p->graph->nodes[st->node], "reduce", &red, &cnt) && cnt > 0) n_red = cnt;
    return (n + (double)n_red) * elems;
}

static double ot_flops_conv(const ot_program *p, const ot_step *st) {
    const char *op = st->op->name;
    const ot_tensor *in0 = ot_slot(p, st->in, st->n_in, 0), *in1 = ot_slot(p, st->in, st->n_in, 1),
                    *out0 = ot_slot(p, st->out, st->n_out, 0);
    bool transposed = ot_node_int(p, st, "transposed") != 0;
    const ot_tensor *w, *side;
    double bias = 0;
    if (!strcmp(op, "Conv")) {
        w = in1, side = out0;
        if (ot_slot(p, st->in, st->n_in, 2)) bias = ot_numel_d(out0);
    } else if (!strcmp(op, "ConvTranspose")) {
        w = in1, side = in0;
        if (ot_slot(p, st->in, st->n_in, 2)) bias = ot_numel_d(out0);
    } else if (!strcmp(op, "ConvGradInput")) { /* (dY, W) -> dX */
        w = in1, side = transposed ? out0 : in0;
    } else { /* ConvGradWeight: (dY, X) -> dW [, dB] */
        w = out0, side = transposed ? in1 : in0;
        if (ot_slot(p, st->out, st->n_out, 1)) bias = ot_numel_d(in0);
    }
    if (!w || !side || w->rank < 1 || w->dims[0] <= 0) return ot_outputs_numel(p, st);
    return 2.0 * ot_numel_d(side) * (ot_numel_d(w) / (double)w->dims[0]) + bias;
}

static double ot_flops_einsum(const ot_program *p, const ot_step *st) {
    const ot_einsum_eq *eq = st->attrs;
    int ranks[OT_EINSUM_MAX_INPUTS];
    const int64_t *dims[OT_EINSUM_MAX_INPUTS];
    if (!eq || st->n_in > OT_EINSUM_MAX_INPUTS) return ot_outputs_numel(p, st);
    for (int i = 0; i < st->n_in; i++) {
        const ot_tensor *t = ot_slot(p, st->in, st->n_in, i);
        if (!t) return ot_outputs_numel(p, st);
        ranks[i] = t->rank;
        dims[i] = t->dims;
    }
    ot_einsum_shape sh;
    if (ot_einsum_resolve(eq, st->n_in, ranks, dims, &sh)) {
        ot_error_clear();
        return ot_outputs_numel(p, st);
    }
    double n = 1;
    for (int l = 0; l < OT_EINSUM_MAX_LABELS; l++)
        if (sh.size[l] >= 0) n *= (double)sh.size[l];
    return (st->n_in > 1 ? 2.0 : 1.0) * n;
}

/* Keys attended to: K's sequence (B, Hkv, T, D) or (B, T, Hkv * D), plus the
   past cache's (B, Hkv, P, D). */
static double ot_attention_keys(const ot_tensor *k, const ot_tensor *past) {
    double t = !k ? 0 : k->rank == 4 ? (double)k->dims[2] : k->rank == 3 ? (double)k->dims[1] : 0;
    return t + (past && past->rank == 4 ? (double)past->dims[2] : 0);
}

static double ot_flops_attention(const ot_program *p, const ot_step *st) {
    const ot_tensor *q = ot_slot(p, st->in, st->n_in, 0), *y = ot_slot(p, st->out, st->n_out, 0);
    double t = ot_attention_keys(ot_slot(p, st->in, st->n_in, 1), ot_slot(p, st->in, st->n_in, 4));
    return 2.0 * (ot_numel_d(q) + ot_numel_d(y)) * t;
}

static double ot_flops_attention_grad(const ot_program *p, const ot_step *st) {
    const ot_tensor *dy = ot_slot(p, st->in, st->n_in, 0), *q = ot_slot(p, st->in, st->n_in, 1);
    double t = ot_attention_keys(ot_slot(p, st->in, st->n_in, 2), ot_slot(p, st->in, st->n_in, 5));
    return 2.0 * (3.0 * ot_numel_d(q) + 2.0 * (dy ? ot_numel_d(dy) : ot_numel_d(q))) * t;
}

/* X (T, B, I) or (B, T, I), W (dirs, gates * H, I), R (dirs, gates * H, H). */
static double ot_flops_recurrent(const ot_program *p, const ot_step *st) {
    const ot_tensor *x = ot_slot(p, st->in, st->n_in, 0), *w = ot_slot(p, st->in, st->n_in, 1),
                    *r = ot_slot(p, st->in, st->n_in, 2);
    if (!x || !w || !r || w->rank != 3 || w->dims[2] <= 0) return ot_outputs_numel(p, st);
    double f = 2.0 * (ot_numel_d(x) / (double)w->dims[2]) * (ot_numel_d(w) + ot_numel_d(r));
    return strstr(st->op->name, "Grad") ? 3.0 * f : f;
}

static const struct {
    const char *op;
    double (*flops)(const ot_program *, const ot_step *);
} ot_flop_rules[] = {
    {"MatMul", ot_flops_matmul},     {"FusedMatMul", ot_flops_matmul},     {"Gemm", ot_flops_gemm},
    {"FusedGemm", ot_flops_gemm},    {"Conv", ot_flops_conv},              {"ConvTranspose", ot_flops_conv},
    {"ConvGradInput", ot_flops_conv}, {"ConvGradWeight", ot_flops_conv},   {"Einsum", ot_flops_einsum},
    {"FusedElementwise", ot_flops_fused_elementwise}, {"Attention", ot_flops_attention},
    {"AttentionGrad", ot_flops_attention_grad}, {"RNN", ot_flops_recurrent}, {"GRU", ot_flops_recurrent},
    {"LSTM", ot_flops_recurrent}, {"RNNGrad", ot_flops_recurrent}, {"GRUGrad", ot_flops_recurrent},
    {"LSTMGrad", ot_flops_recurrent},
};

double ot_step_flops(const ot_program *p, const ot_step *st) {
    for (size_t i = 0; i < sizeof ot_flop_rules / sizeof ot_flop_rules[0]; i++)
        if (!strcmp(st->op->name, ot_flop_rules[i].op)) return ot_flop_rules[i].flops(p, st);
    return ot_outputs_numel(p, st);
}

double ot_program_flops(const ot_program *p) {
    double n = 0;
    for (int k = 0; k < p->n_steps; k++) n += ot_step_flops(p, &p->steps[k]);
    return n;
}
