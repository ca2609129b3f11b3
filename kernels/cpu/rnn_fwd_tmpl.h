/* One direction of the recurrent forward, written once over the element
 * type: kernels/cpu/rnn.c includes this file with RT (float / double) and
 * SUF (f32 / f64) defined.  See rnn.h for the shapes and the algorithm.
 *
 * Per step s, batch entry b runs time t = s (forward) or len_b - 1 - s
 * (reverse) while s < len_b; its gate row in `pre` (X's row order) holds
 * X_t W^T + biases from the one input GEMM, gets H_{t-1} R^T (and the
 * peepholes) added, and keeps that raw pre-activation for the backward. */

#define OT_RNN_FN(name) OT_RNN_CAT(name, SUF)
#define OT_RNN_CAT(a, b) OT_RNN_CAT2(a, b)
#define OT_RNN_CAT2(a, b) a##_##b
#define GEMM OT_RNN_FN(ot_gemm)
#define ACT OT_RNN_FN(ot_rnn_act_fwd)

/* Simple RNN: H_t = f(pre). */
static void OT_RNN_FN(rnn_row)(const ot_rnn_desc *d, const ot_rnn_act *act, RT *p, const RT *hr, RT *h) {
    const int64_t H = d->H;
    for (int64_t k = 0; k < H; k++) p[k] += hr[k];
    ACT(&act[0], (RT)d->clip, p, h, H);
}

/* LSTM, gates (i, o, f, c):
 *   i = f(pi + Pi . C_{t-1}), f = f(pf + Pf . C_{t-1}) (or 1 - i), c~ = g(pc)
 *   C_t = f . C_{t-1} + i . c~,  o = f(po + Po . C_t),  H_t = o . h(C_t)
 * The clip bounds the pre-activations of f and g; h's input C_t is not
 * clipped (as onnxruntime does).  tmp: 5 H. */
static void OT_RNN_FN(lstm_row)(const ot_rnn_desc *d, const ot_rnn_act *act, const RT *P, RT *p, const RT *hr,
                                RT *h, RT *c, RT *tmp) {
    const int64_t H = d->H;
    const RT clip = (RT)d->clip;
    RT *pi = p, *po = p + H, *pf = p + 2 * H, *pc = p + 3 * H;
    RT *ti = tmp, *to = tmp + H, *tf = tmp + 2 * H, *tc = tmp + 3 * H, *th = tmp + 4 * H;
    for (int64_t k = 0; k < H; k++) {
        pi[k] += hr[k];
        pf[k] += hr[2 * H + k];
        pc[k] += hr[3 * H + k];
    }
    if (P)
        for (int64_t k = 0; k < H; k++) {
            pi[k] += P[k] * c[k];
            pf[k] += P[2 * H + k] * c[k];
        }
    ACT(&act[0], clip, pi, ti, H);
    if (d->input_forget)
        for (int64_t k = 0; k < H; k++) tf[k] = 1 - ti[k];
    else
        ACT(&act[0], clip, pf, tf, H);
    ACT(&act[1], clip, pc, tc, H);
    for (int64_t k = 0; k < H; k++) {
        c[k] = tf[k] * c[k] + ti[k] * tc[k];
        po[k] += hr[H + k];
    }
    if (P)
        for (int64_t k = 0; k < H; k++) po[k] += P[H + k] * c[k];
    ACT(&act[0], clip, po, to, H);
    ACT(&act[2], (RT)INFINITY, c, th, H);
    for (int64_t k = 0; k < H; k++) h[k] = to[k] * th[k];
}

/* GRU, gates (z, r, h), first part: z and r, then either the whole update
 * (linear_before_reset: h~ = g(ph + r . (H_{t-1} Rh^T + Rbh)), lin receives
 * the bracket) or q = r . H_{t-1} for the step's second GEMM.  tmp: 3 H
 * (z is read again by gru_row2). */
static void OT_RNN_FN(gru_row1)(const ot_rnn_desc *d, const ot_rnn_act *act, const RT *rbh, RT *p, const RT *hr,
                                RT *h, RT *q, RT *lin, RT *tmp) {
    const int64_t H = d->H;
    const RT clip = (RT)d->clip;
    RT *pz = p, *pr = p + H, *ph = p + 2 * H, *tz = tmp, *tr = tmp + H, *tn = tmp + 2 * H;
    for (int64_t k = 0; k < H; k++) {
        pz[k] += hr[k];
        pr[k] += hr[H + k];
    }
    ACT(&act[0], clip, pz, tz, H);
    ACT(&act[0], clip, pr, tr, H);
    if (!d->linear_before_reset) {
        for (int64_t k = 0; k < H; k++) q[k] = tr[k] * h[k];
        return;
    }
    for (int64_t k = 0; k < H; k++) {
        lin[k] = hr[2 * H + k] + rbh[k];
        ph[k] += tr[k] * lin[k];
    }
    ACT(&act[1], clip, ph, tn, H);
    for (int64_t k = 0; k < H; k++) h[k] = (1 - tz[k]) * tn[k] + tz[k] * h[k];
}

/* GRU without linear_before_reset, second part: h~ = g(ph + (r . H_{t-1}) Rh^T). */
static void OT_RNN_FN(gru_row2)(const ot_rnn_desc *d, const ot_rnn_act *act, RT *p, const RT *qr, RT *h, RT *tmp) {
    const int64_t H = d->H;
    RT *ph = p + 2 * H, *tz = tmp, *tn = tmp + 2 * H;
    for (int64_t k = 0; k < H; k++) ph[k] += qr[k];
    ACT(&act[1], (RT)d->clip, ph, tn, H);
    for (int64_t k = 0; k < H; k++) h[k] = (1 - tz[k]) * tn[k] + tz[k] * h[k];
}

/* The buffers of one direction's forward (see ot_rnn_dir_scratch). */
typedef struct OT_RNN_FN(fwd_ctx) {
    const ot_rnn_desc *d;
    int dir;
    bool rev;
    const ot_rnn_fwd_io *io;
    const RT *R, *P, *rbh;
    RT *pre, *h, *c, *hr, *tmp, *q, *qr, *lin, *hprev, *cprev, *extra;
} OT_RNN_FN(fwd_ctx);

/* Every step of batch rows [b0, b1): rows never interact, so a chunk of
   rows runs its whole sequence without waiting for the others. */
static void OT_RNN_FN(fwd_rows)(const OT_RNN_FN(fwd_ctx) *x, int64_t b0, int64_t b1) {
    const ot_rnn_desc *d = x->d;
    const int64_t H = d->H, GH = ot_rnn_gates(d->kind) * H, nb = b1 - b0;
    const bool two_gemm = d->kind == OT_RNN_GRU && !d->linear_before_reset;
    const ot_rnn_act *act = d->act[x->dir];
    const int64_t *lens = x->io->lens;
    RT *h = x->h + b0 * H, *hr = x->hr + b0 * GH, *q = x->q + b0 * H, *qr = x->qr + b0 * H, *Y = x->io->Y;
    int64_t steps = 0;
    for (int64_t b = b0; b < b1; b++) steps = lens ? (lens[b] > steps ? lens[b] : steps) : d->T;

    for (int64_t s = 0; s < steps; s++) {
        GEMM(false, true, nb, two_gemm ? 2 * H : GH, H, 1, h, H, x->R, H, 0, hr, GH);
        for (int64_t b = b0; b < b1; b++) {
            int64_t t;
            if (!ot_rnn_step_time(d, lens, x->rev, s, b, &t)) {
                if (two_gemm) memset(x->q + b * H, 0, sizeof(RT) * (size_t)H);
                continue;
            }
            const int64_t row = ot_rnn_row(d, t, b);
            RT *p = x->pre + row * GH, *hb = x->h + b * H, *cb = x->c + b * H, *tb = x->tmp + b * 5 * H;
            const RT *hrb = x->hr + b * GH;
            if (x->hprev) memcpy(x->hprev + row * H, hb, sizeof(RT) * (size_t)H);
            if (x->cprev) memcpy(x->cprev + row * H, cb, sizeof(RT) * (size_t)H);
            if (d->kind == OT_RNN_SIMPLE) OT_RNN_FN(rnn_row)(d, act, p, hrb, hb);
            else if (d->kind == OT_RNN_LSTM) OT_RNN_FN(lstm_row)(d, act, x->P, p, hrb, hb, cb, tb);
            else
                OT_RNN_FN(gru_row1)(d, act, x->rbh, p, hrb, hb, x->q + b * H, x->extra ? x->extra + row * H : x->lin + b * H,
                                    tb);
        }
        if (two_gemm) {
            GEMM(false, true, nb, H, H, 1, q, H, x->R + 2 * H * H, H, 0, qr, H);
            for (int64_t b = b0; b < b1; b++) {
                int64_t t;
                if (!ot_rnn_step_time(d, lens, x->rev, s, b, &t)) continue;
                OT_RNN_FN(gru_row2)(d, act, x->pre + ot_rnn_row(d, t, b) * GH, x->qr + b * H, x->h + b * H,
                                    x->tmp + b * 5 * H);
            }
        }
        if (Y)
            for (int64_t b = b0; b < b1; b++) {
                int64_t t;
                if (ot_rnn_step_time(d, lens, x->rev, s, b, &t))
                    memcpy(Y + ot_rnn_y_off(d, x->dir, t, b), x->h + b * H, sizeof(RT) * (size_t)H);
            }
    }
}

void OT_RNN_FN(ot_rnn_fwd_dir)(const ot_rnn_desc *d, int dir, bool rev, const ot_rnn_fwd_io *io,
                               const ot_rnn_saved *sv, RT *scratch) {
    const int64_t T = d->T, B = d->B, I = d->I, H = d->H, GH = ot_rnn_gates(d->kind) * H, rows = T * B;
    const bool lbr = d->kind == OT_RNN_GRU && d->linear_before_reset;
    const RT *X = io->X, *W = (const RT *)io->W + dir * GH * I;
    const RT *Bi = io->B ? (const RT *)io->B + dir * 2 * GH : NULL;
    OT_RNN_FN(fwd_ctx) x = {d, dir, rev, io, (const RT *)io->R + dir * GH * H,
                            io->P ? (const RT *)io->P + dir * 3 * H : NULL, NULL};
    x.pre = sv ? (RT *)sv->pre : scratch + ot_rnn_dir_scratch(d);
    x.h = scratch, x.c = x.h + B * H, x.hr = x.c + B * H, x.tmp = x.hr + B * GH, x.q = x.tmp + 5 * B * H;
    x.qr = x.q + B * H, x.lin = x.qr + B * H;
    RT *bx = x.lin + B * H, *rbh = bx + GH;
    x.rbh = rbh;
    if (sv) x.hprev = sv->hprev, x.cprev = sv->cprev, x.extra = sv->extra;

    /* The input projection of every step, then the biases (Wb + Rb; GRU with
       linear_before_reset keeps Rbh apart: r multiplies it). */
    GEMM(false, true, rows, GH, I, 1, X, I, W, I, 0, x.pre, GH);
    memset(rbh, 0, sizeof(RT) * (size_t)H);
    if (Bi) {
        for (int64_t k = 0; k < GH; k++) bx[k] = Bi[k] + Bi[GH + k];
        if (lbr)
            for (int64_t k = 0; k < H; k++) bx[2 * H + k] = Bi[2 * H + k], rbh[k] = Bi[GH + 2 * H + k];
#pragma omp parallel for schedule(static) if (rows * GH >= OT_RNN_PAR_MIN)
        for (int64_t r = 0; r < rows; r++) {
            RT *p = x.pre + r * GH;
            for (int64_t k = 0; k < GH; k++) p[k] += bx[k];
        }
    }
    ot_rnn_load_state(d, dir, io->h0, x.h, sizeof(RT));
    if (d->kind == OT_RNN_LSTM) ot_rnn_load_state(d, dir, io->c0, x.c, sizeof(RT));
    const int nch = ot_rnn_chunks(d);
#pragma omp parallel for schedule(static) num_threads(nch) if (nch > 1)
    for (int ch = 0; ch < nch; ch++) OT_RNN_FN(fwd_rows)(&x, B * ch / nch, B * (ch + 1) / nch);

    /* Steps past each sequence's end: zeros in Y and in what the backward reads. */
    RT *Y = io->Y;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = io->lens ? io->lens[b] : T; t < T; t++) {
            const int64_t row = ot_rnn_row(d, t, b);
            if (Y) memset(Y + ot_rnn_y_off(d, dir, t, b), 0, sizeof(RT) * (size_t)H);
            if (!sv) continue;
            memset(x.pre + row * GH, 0, sizeof(RT) * (size_t)GH);
            memset(x.hprev + row * H, 0, sizeof(RT) * (size_t)H);
            if (x.cprev) memset(x.cprev + row * H, 0, sizeof(RT) * (size_t)H);
            if (x.extra) memset(x.extra + row * H, 0, sizeof(RT) * (size_t)H);
        }
    ot_rnn_store_state(d, dir, x.h, io->Yh, sizeof(RT));
    if (d->kind == OT_RNN_LSTM) ot_rnn_store_state(d, dir, x.c, io->Yc, sizeof(RT));
}

#undef GEMM
#undef ACT
