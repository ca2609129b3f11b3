/* Recurrent layers, backward (backpropagation through time): the float32 /
 * float64 instantiations of rnn_bwd_tmpl.h, and float16 / bfloat16 through
 * float32.
 *
 * What the backward keeps: nothing from the forward node.  It recomputes
 * the forward of each direction into its scratch (raw gate pre-activations
 * (T*B, G*H) plus the states entering each step, (T*B, H) each), which costs
 * one more forward pass but holds that memory only while the backward
 * kernel runs, instead of from the forward to the backward. */
#include "fp_select.h"

#include <math.h>
#include <string.h>

#include "../../src/core/status.h"
#include "../../src/runtime/workspace.h"
#include "matmul.h"
#include "rnn.h"
#include "rnn_act.h"

#define RT float
#define SUF f32
#include "rnn_bwd_tmpl.h"
#undef RT
#undef SUF
#define RT double
#define SUF f64
#include "rnn_bwd_tmpl.h"
#undef RT
#undef SUF

/* Elements of one direction's saved buffers, and the backward's step buffers. */
static size_t ot_rnn_saved_elems(const ot_rnn_desc *d) {
    const int64_t rows = d->T * d->B, H = d->H, GH = ot_rnn_gates(d->kind) * H;
    return (size_t)(rows * (GH + H + (d->kind != OT_RNN_SIMPLE ? H : 0)));
}

static size_t ot_rnn_bstep_elems(const ot_rnn_desc *d) {
    const int64_t GH = ot_rnn_gates(d->kind) * d->H;
    return (size_t)(d->B * (18 * d->H + GH));
}

static size_t ot_rnn_bwd_elems(const ot_rnn_desc *d) {
    return ot_rnn_saved_elems(d) + ot_rnn_dir_scratch(d) + ot_rnn_bstep_elems(d);
}

static ot_status ot_rnn_backward_typed(const ot_rnn_desc *d, bool f64, const ot_rnn_bwd_io *io) {
    const size_t es = f64 ? sizeof(double) : sizeof(float), n = ot_rnn_bwd_elems(d);
    char *buf = ot_workspace_alloc(es * n);
    if (!buf) return ot_error(OT_ERR_NOMEM, "out of memory for the recurrent layer's backward scratch (%zu bytes)", es * n);
    const int64_t rows = d->T * d->B, H = d->H, GH = ot_rnn_gates(d->kind) * H;
    ot_rnn_saved sv = {buf, NULL, NULL, NULL};
    sv.hprev = buf + es * (size_t)(rows * GH);
    char *next = (char *)sv.hprev + es * (size_t)(rows * H);
    if (d->kind == OT_RNN_LSTM) sv.cprev = next, next += es * (size_t)(rows * H);
    if (d->kind == OT_RNN_GRU) sv.extra = next, next += es * (size_t)(rows * H);
    char *bscr = next + es * ot_rnn_dir_scratch(d);
    for (int dir = 0; dir < d->nd; dir++) {
        bool rev = d->nd == 2 ? dir == 1 : d->reverse;
        if (f64) bwd_dir_f64(d, dir, rev, io, &sv, (double *)next, (double *)bscr);
        else bwd_dir_f32(d, dir, rev, io, &sv, (float *)next, (float *)bscr);
    }
    ot_workspace_free(buf);
    return OT_OK;
}

/* Element counts of the backward's extra tensors: dY, dYh, dYc, then dX, dW,
   dR, dB, dh0, dc0, dP. */
static void ot_rnn_grad_counts(const ot_rnn_desc *d, int64_t n[20]) {
    ot_rnn_counts(d, n);
    n[10] = n[7], n[11] = n[8], n[12] = n[9];
    for (int i = 0; i < 7; i++) n[13 + i] = n[i];
}

size_t ot_rnn_backward_scratch(const ot_rnn_desc *d, ot_dtype dt) {
    size_t es = dt == OT_DOUBLE ? sizeof(double) : sizeof(float), extra = 0;
    if (dt == OT_FLOAT16 || dt == OT_BFLOAT16) {
        int64_t n[20];
        ot_rnn_grad_counts(d, n);
        for (int i = 0; i < 20; i++)
            if (i < 7 || i >= 10) extra += sizeof(float) * (size_t)n[i];
        extra += 64;
    }
    return es * ot_rnn_bwd_elems(d) + extra + 64;
}

ot_status ot_rnn_backward(const ot_rnn_desc *d, ot_dtype dt, const ot_rnn_bwd_io *io) {
    if (dt == OT_FLOAT || dt == OT_DOUBLE) return ot_rnn_backward_typed(d, dt == OT_DOUBLE, io);
    if (dt != OT_FLOAT16 && dt != OT_BFLOAT16)
        return ot_error(OT_ERR_UNSUPPORTED, "recurrent layer gradient: element type %d is not supported", (int)dt);
    int64_t n[20];
    ot_rnn_grad_counts(d, n);
    const ot_rnn_fwd_io *f = &io->f;
    /* X, W, R, B, h0, c0, P, dY, dYh, dYc converted; dX ... dP produced. */
    const void *src[17] = {f->X, f->W, f->R, f->B, f->h0, f->c0, f->P, io->dY, io->dYh, io->dYc,
                           io->dX, io->dW, io->dR, io->dB, io->dh0, io->dc0, io->dP};
    int64_t cnt[17];
    bool convert[17];
    for (int i = 0; i < 17; i++) {
        cnt[i] = i < 7 ? n[i] : n[i + 3];
        convert[i] = i < 10;
    }
    float *c[17];
    void *block;
    OT_TRY(ot_rnn_stage(dt, 17, src, cnt, convert, c, &block));
    ot_rnn_bwd_io fio = {{c[0], c[1], c[2], c[3], c[4], c[5], c[6], f->lens, NULL, NULL, NULL}, c[7], c[8], c[9],
                         c[10], c[11], c[12], c[13], c[14], c[15], c[16]};
    ot_status s = ot_rnn_backward_typed(d, false, &fio);
    for (int i = 10; i < 17 && !s; i++)
        if (c[i]) ot_f32_to_half(dt, c[i], (uint16_t *)src[i], cnt[i]);
    ot_workspace_free(block);
    return s;
}
