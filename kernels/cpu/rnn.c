/* Recurrent layers, forward: activation names, the float32 / float64
 * instantiations of rnn_fwd_tmpl.h, and float16 / bfloat16 through float32. */
#include "fp_select.h"

#include "rnn.h"

#include <ctype.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "../../src/core/status.h"
#include "../../src/runtime/workspace.h"
#include "matmul.h"
#include "rnn_act.h"

/* ---- activations ------------------------------------------------------------ */

static const struct {
    const char *name;
    bool alpha, beta;
    float dalpha, dbeta;
} ot_rnn_acts_tab[OT_RNN_ACT_COUNT] = {
    [OT_RNN_ACT_RELU] = {"Relu", false, false, 0, 0},
    [OT_RNN_ACT_TANH] = {"Tanh", false, false, 0, 0},
    [OT_RNN_ACT_SIGMOID] = {"Sigmoid", false, false, 0, 0},
    /* The defaults of the ONNX operators of these names (Affine and
       ScaledTanh were experimental ops: alpha 1, beta 0 / 1). */
    [OT_RNN_ACT_AFFINE] = {"Affine", true, true, 1.0f, 0.0f},
    [OT_RNN_ACT_LEAKYRELU] = {"LeakyRelu", true, false, 0.01f, 0},
    [OT_RNN_ACT_THRESHOLDEDRELU] = {"ThresholdedRelu", true, false, 1.0f, 0},
    [OT_RNN_ACT_SCALEDTANH] = {"ScaledTanh", true, true, 1.0f, 1.0f},
    [OT_RNN_ACT_HARDSIGMOID] = {"HardSigmoid", true, true, 0.2f, 0.5f},
    [OT_RNN_ACT_ELU] = {"Elu", true, false, 1.0f, 0},
    [OT_RNN_ACT_SOFTSIGN] = {"Softsign", false, false, 0, 0},
    [OT_RNN_ACT_SOFTPLUS] = {"Softplus", false, false, 0, 0},
};

int ot_rnn_act_from_name(const char *name, size_t len) {
    for (int k = 0; k < OT_RNN_ACT_COUNT; k++) {
        const char *n = ot_rnn_acts_tab[k].name;
        if (strlen(n) != len) continue;
        size_t i = 0;
        while (i < len && tolower((unsigned char)n[i]) == tolower((unsigned char)name[i])) i++;
        if (i == len) return k;
    }
    return -1;
}

const char *ot_rnn_act_name(int kind) { return kind >= 0 && kind < OT_RNN_ACT_COUNT ? ot_rnn_acts_tab[kind].name : "?"; }
bool ot_rnn_act_takes_alpha(int kind) { return ot_rnn_acts_tab[kind].alpha; }
bool ot_rnn_act_takes_beta(int kind) { return ot_rnn_acts_tab[kind].beta; }
float ot_rnn_act_default_alpha(int kind) { return ot_rnn_acts_tab[kind].dalpha; }
float ot_rnn_act_default_beta(int kind) { return ot_rnn_acts_tab[kind].dbeta; }

/* ---- the typed forward ---------------------------------------------------------- */

int ot_rnn_chunks(const ot_rnn_desc *d) {
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads < 2 || d->B < 2 || (d->B <= 4 && d->H > 256)) return 1;
    return d->B < threads ? (int)d->B : threads;
}

size_t ot_rnn_dir_scratch(const ot_rnn_desc *d) {
    const int64_t GH = ot_rnn_gates(d->kind) * d->H;
    return (size_t)(d->B * (10 * d->H + GH) + GH + d->H);
}

#define RT float
#define SUF f32
#include "rnn_fwd_tmpl.h"
#undef RT
#undef SUF
#define RT double
#define SUF f64
#include "rnn_fwd_tmpl.h"
#undef RT
#undef SUF

static size_t ot_rnn_fwd_elems(const ot_rnn_desc *d) {
    return ot_rnn_dir_scratch(d) + (size_t)(d->T * d->B * ot_rnn_gates(d->kind) * d->H);
}

static ot_status ot_rnn_forward_typed(const ot_rnn_desc *d, bool f64, const ot_rnn_fwd_io *io) {
    size_t es = f64 ? sizeof(double) : sizeof(float);
    void *buf = ot_workspace_alloc(es * ot_rnn_fwd_elems(d));
    if (!buf) return ot_error(OT_ERR_NOMEM, "out of memory for the recurrent layer's scratch (%zu bytes)", es * ot_rnn_fwd_elems(d));
    for (int dir = 0; dir < d->nd; dir++) {
        bool rev = d->nd == 2 ? dir == 1 : d->reverse;
        if (f64) ot_rnn_fwd_dir_f64(d, dir, rev, io, NULL, buf);
        else ot_rnn_fwd_dir_f32(d, dir, rev, io, NULL, buf);
    }
    ot_workspace_free(buf);
    return OT_OK;
}

/* ---- float16 / bfloat16: staged through float32 ------------------------------------ */

void ot_rnn_counts(const ot_rnn_desc *d, int64_t n[10]) {
    const int64_t GH = ot_rnn_gates(d->kind) * d->H, S = d->nd * d->B * d->H;
    n[0] = d->T * d->B * d->I;
    n[1] = d->nd * GH * d->I;
    n[2] = d->nd * GH * d->H;
    n[3] = d->nd * 2 * GH;
    n[4] = n[5] = S;
    n[6] = d->nd * 3 * d->H;
    n[7] = d->T * S;
    n[8] = n[9] = S;
}

size_t ot_rnn_forward_scratch(const ot_rnn_desc *d, ot_dtype dt) {
    size_t es = dt == OT_DOUBLE ? sizeof(double) : sizeof(float), extra = 0;
    if (dt == OT_FLOAT16 || dt == OT_BFLOAT16) {
        int64_t n[10];
        ot_rnn_counts(d, n);
        for (int i = 0; i < 10; i++) extra += sizeof(float) * (size_t)n[i] + 64;
    }
    return es * ot_rnn_fwd_elems(d) + extra + 64;
}

ot_status ot_rnn_stage(ot_dtype dt, int count, const void *const *src, const int64_t *n, bool *convert,
                              float **dst, void **block) {
    size_t total = 0;
    for (int i = 0; i < count; i++)
        if (src[i]) total += (size_t)n[i];
    float *p = ot_workspace_alloc(sizeof(float) * (total ? total : 1));
    if (!p) return ot_error(OT_ERR_NOMEM, "out of memory staging %zu float16 values as float32", total);
    *block = p;
    for (int i = 0; i < count; i++) {
        dst[i] = NULL;
        if (!src[i]) continue;
        dst[i] = p;
        if (convert[i]) ot_half_to_f32(dt, src[i], p, n[i]);
        p += n[i];
    }
    return OT_OK;
}

ot_status ot_rnn_forward(const ot_rnn_desc *d, ot_dtype dt, const ot_rnn_fwd_io *io) {
    if (dt == OT_FLOAT || dt == OT_DOUBLE) return ot_rnn_forward_typed(d, dt == OT_DOUBLE, io);
    if (dt != OT_FLOAT16 && dt != OT_BFLOAT16)
        return ot_error(OT_ERR_UNSUPPORTED, "recurrent layer: element type %d is not supported", (int)dt);
    int64_t n[10];
    ot_rnn_counts(d, n);
    const void *src[10] = {io->X, io->W, io->R, io->B, io->h0, io->c0, io->P, io->Y, io->Yh, io->Yc};
    bool convert[10] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
    float *f[10];
    void *block;
    OT_TRY(ot_rnn_stage(dt, 10, src, n, convert, f, &block));
    ot_rnn_fwd_io fio = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], io->lens, f[7], f[8], f[9]};
    ot_status s = ot_rnn_forward_typed(d, false, &fio);
    for (int i = 7; i < 10 && !s; i++)
        if (f[i]) ot_f32_to_half(dt, f[i], (uint16_t *)src[i], n[i]);
    ot_workspace_free(block);
    return s;
}
