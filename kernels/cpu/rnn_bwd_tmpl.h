/* One direction of backpropagation through time, written once over the
 * element type: kernels/cpu/rnn_grad.c includes this file with RT and SUF
 * defined.
 *
 * The forward is recomputed first (ot_rnn_fwd_dir with an ot_rnn_saved), so
 * `pre` holds each step's raw gate pre-activations and hprev / cprev the
 * states that entered it.  Walking the steps back, each gate row of `pre`
 * is overwritten by dL/d(pre-activation) (dA: the gradient of X W^T + Wb),
 * and the step's dA for the R side (dHR: differs from dA only in GRU's h
 * gate) is gathered in a (B, G*H) matrix for the GEMM dH_{t-1} += dHR R.
 * Then dX = dA W, dW = dA^T X, dR = dHR^T H_{t-1} and dB are one GEMM or
 * column sum each over all steps. */

#define OT_RNN_FN(name) OT_RNN_CAT(name, SUF)
#define OT_RNN_CAT(a, b) OT_RNN_CAT2(a, b)
#define OT_RNN_CAT2(a, b) a##_##b
#define GEMM OT_RNN_FN(ot_gemm)
#define ACTG OT_RNN_FN(ot_rnn_act_grad)

/* Simple RNN: dA = dH_t . f'(pre).  tmp: 2 H. */
static void OT_RNN_FN(rnn_brow)(const ot_rnn_desc *d, const ot_rnn_act *act, RT *p, const RT *dh, RT *dhn, RT *dA,
                                RT *tmp) {
    const int64_t H = d->H;
    ACTG(&act[0], (RT)d->clip, p, tmp, tmp + H, H);
    for (int64_t k = 0; k < H; k++) {
        dA[k] = dh[k] * tmp[H + k];
        p[k] = dA[k];
        dhn[k] = 0;
    }
}

/* LSTM: recomputes the gates and C_t (into cn) from the raw
 * pre-activations, then dA = (di, do, df, dc~) . activation' and dC_{t-1}
 * (into dc, which holds dC_t on entry).  tmp: 10 H. */
static void OT_RNN_FN(lstm_brow)(const ot_rnn_desc *d, const ot_rnn_act *act, const RT *P, RT *p, const RT *cp,
                                 const RT *dh, RT *dc, RT *dhn, RT *dA, RT *cn, RT *tmp) {
    const int64_t H = d->H;
    const RT clip = (RT)d->clip;
    RT *ti = tmp, *di = tmp + H, *to = tmp + 2 * H, *dO = tmp + 3 * H, *tf = tmp + 4 * H, *df = tmp + 5 * H;
    RT *tc = tmp + 6 * H, *dcg = tmp + 7 * H, *th = tmp + 8 * H, *dth = tmp + 9 * H;
    ACTG(&act[0], clip, p, ti, di, H);
    if (d->input_forget)
        for (int64_t k = 0; k < H; k++) tf[k] = 1 - ti[k], df[k] = 0;
    else
        ACTG(&act[0], clip, p + 2 * H, tf, df, H);
    ACTG(&act[1], clip, p + 3 * H, tc, dcg, H);
    ACTG(&act[0], clip, p + H, to, dO, H);
    for (int64_t k = 0; k < H; k++) cn[k] = tf[k] * cp[k] + ti[k] * tc[k];
    ACTG(&act[2], (RT)INFINITY, cn, th, dth, H);
    for (int64_t k = 0; k < H; k++) {
        RT dcn = dc[k] + dh[k] * to[k] * dth[k];
        const RT dao = dh[k] * th[k] * dO[k];
        if (P) dcn += dao * P[H + k]; /* Po peeps at C_t */
        RT dti = dcn * tc[k];
        const RT dtf = dcn * cp[k], dtc = dcn * ti[k];
        RT daf = 0;
        if (d->input_forget) dti -= dtf; /* f = 1 - i */
        else daf = dtf * df[k];
        const RT dai = dti * di[k], dac = dtc * dcg[k];
        RT dcp = dcn * tf[k];
        if (P) dcp += dai * P[k] + daf * P[2 * H + k];
        dc[k] = dcp;
        dA[k] = dai;
        dA[H + k] = dao;
        dA[2 * H + k] = daf;
        dA[3 * H + k] = dac;
        dhn[k] = 0;
    }
    memcpy(p, dA, sizeof(RT) * (size_t)(4 * H));
}

/* GRU, first part: H_t = (1 - z) . n + z . H_{t-1}.  Writes dH_{t-1}'s
 * direct term dH . z into dhn; with linear_before_reset also dr, so the
 * whole dA, and the gradient of the bracket (H_{t-1} Rh^T + Rbh) into lin
 * (which held the bracket).  Without it only dh~ is known here: dz waits in
 * tmp for gru_brow2.  tmp: 7 H. */
static void OT_RNN_FN(gru_brow1)(const ot_rnn_desc *d, const ot_rnn_act *act, RT *p, const RT *hp, RT *lin,
                                 const RT *dh, RT *dhn, RT *dA, RT *tmp) {
    const int64_t H = d->H;
    const RT clip = (RT)d->clip;
    RT *tz = tmp, *dz = tmp + H, *tr = tmp + 2 * H, *dr = tmp + 3 * H, *tn = tmp + 4 * H, *dn = tmp + 5 * H;
    RT *daz = tmp + 6 * H;
    ACTG(&act[0], clip, p, tz, dz, H);
    ACTG(&act[0], clip, p + H, tr, dr, H);
    ACTG(&act[1], clip, p + 2 * H, tn, dn, H);
    for (int64_t k = 0; k < H; k++) {
        const RT dah = dh[k] * (1 - tz[k]) * dn[k];
        daz[k] = dh[k] * (hp[k] - tn[k]) * dz[k];
        dhn[k] = dh[k] * tz[k];
        dA[2 * H + k] = dah;
        p[2 * H + k] = dah;
    }
    if (!d->linear_before_reset) return;
    for (int64_t k = 0; k < H; k++) {
        const RT dah = p[2 * H + k], dar = dah * lin[k] * dr[k];
        lin[k] = dah * tr[k];
        dA[2 * H + k] = lin[k];
        dA[k] = p[k] = daz[k];
        dA[H + k] = p[H + k] = dar;
    }
}

/* GRU without linear_before_reset, second part, once dq = dh~ Rh is known:
 * dr = dq . H_{t-1}, dH_{t-1} += dq . r; q = r . H_{t-1} (the input of Rh)
 * goes to `q` for dRh. */
static void OT_RNN_FN(gru_brow2)(const ot_rnn_desc *d, RT *p, const RT *hp, const RT *dq, RT *dhn, RT *dA, RT *q,
                                 const RT *tmp) {
    const int64_t H = d->H;
    const RT *tr = tmp + 2 * H, *dr = tmp + 3 * H, *daz = tmp + 6 * H;
    for (int64_t k = 0; k < H; k++) {
        const RT dar = dq[k] * hp[k] * dr[k];
        dhn[k] += dq[k] * tr[k];
        q[k] = tr[k] * hp[k];
        dA[k] = p[k] = daz[k];
        dA[H + k] = p[H + k] = dar;
    }
}

/* Column sums of a (rows, n) matrix with row stride ld into out. */
static void OT_RNN_FN(colsum)(const RT *m, int64_t rows, int64_t n, int64_t ld, RT *out) {
    memset(out, 0, sizeof(RT) * (size_t)n);
    for (int64_t r = 0; r < rows; r++) {
        const RT *row = m + r * ld;
        for (int64_t k = 0; k < n; k++) out[k] += row[k];
    }
}

/* What the backward's batch chunks share. */
typedef struct OT_RNN_FN(bwd_ctx) {
    const ot_rnn_desc *d;
    int dir;
    bool rev;
    const ot_rnn_bwd_io *io;
    const RT *R, *P;
    RT *pre, *hprev, *cprev, *extra;
    RT *dh, *dc, *dhn, *dA, *tmp, *dq, *cn, *dP; /* per batch row; dP (B, 3 H) partial sums */
} OT_RNN_FN(bwd_ctx);

/* The steps of batch rows [b0, b1), last to first. */
static void OT_RNN_FN(bwd_rows)(const OT_RNN_FN(bwd_ctx) *x, int64_t b0, int64_t b1) {
    const ot_rnn_desc *d = x->d;
    const int64_t H = d->H, GH = ot_rnn_gates(d->kind) * H, nb = b1 - b0;
    const bool lstm = d->kind == OT_RNN_LSTM, two_gemm = d->kind == OT_RNN_GRU && !d->linear_before_reset;
    const bool want_dP = lstm && x->P && x->io->dP;
    const ot_rnn_act *act = d->act[x->dir];
    const int64_t *lens = x->io->f.lens;
    const RT *dY = x->io->dY, *R = x->R;
    int64_t steps = 0;
    for (int64_t b = b0; b < b1; b++) steps = lens ? (lens[b] > steps ? lens[b] : steps) : d->T;

    for (int64_t s = steps - 1; s >= 0; s--) {
        for (int64_t b = b0; b < b1; b++) {
            RT *dhb = x->dh + b * H, *dAb = x->dA + b * GH, *dhnb = x->dhn + b * H;
            int64_t t;
            if (!ot_rnn_step_time(d, lens, x->rev, s, b, &t)) { /* the state passes through unchanged */
                memset(dAb, 0, sizeof(RT) * (size_t)GH);
                memcpy(dhnb, dhb, sizeof(RT) * (size_t)H);
                continue;
            }
            const int64_t row = ot_rnn_row(d, t, b);
            RT *p = x->pre + row * GH, *tb = x->tmp + b * 10 * H;
            if (dY) {
                const RT *g = dY + ot_rnn_y_off(d, x->dir, t, b);
                for (int64_t k = 0; k < H; k++) dhb[k] += g[k];
            }
            if (d->kind == OT_RNN_SIMPLE) OT_RNN_FN(rnn_brow)(d, act, p, dhb, dhnb, dAb, tb);
            else if (lstm)
                OT_RNN_FN(lstm_brow)(d, act, x->P, p, x->cprev + row * H, dhb, x->dc + b * H, dhnb, dAb, x->cn + b * H, tb);
            else OT_RNN_FN(gru_brow1)(d, act, p, x->hprev + row * H, x->extra + row * H, dhb, dhnb, dAb, tb);
            if (want_dP) {
                RT *dP = x->dP + b * 3 * H;
                const RT *cp = x->cprev + row * H, *cb = x->cn + b * H;
                for (int64_t k = 0; k < H; k++) {
                    dP[k] += dAb[k] * cp[k];
                    dP[H + k] += dAb[H + k] * cb[k];
                    dP[2 * H + k] += dAb[2 * H + k] * cp[k];
                }
            }
        }
        if (two_gemm) {
            GEMM(false, false, nb, H, H, 1, x->dA + b0 * GH + 2 * H, GH, R + 2 * H * H, H, 0, x->dq + b0 * H, H);
            for (int64_t b = b0; b < b1; b++) {
                int64_t t;
                if (!ot_rnn_step_time(d, lens, x->rev, s, b, &t)) continue;
                const int64_t row = ot_rnn_row(d, t, b);
                OT_RNN_FN(gru_brow2)(d, x->pre + row * GH, x->hprev + row * H, x->dq + b * H, x->dhn + b * H,
                                     x->dA + b * GH, x->extra + row * H, x->tmp + b * 10 * H);
            }
        }
        GEMM(false, false, nb, H, two_gemm ? 2 * H : GH, 1, x->dA + b0 * GH, GH, R, H, 1, x->dhn + b0 * H, H);
        memcpy(x->dh + b0 * H, x->dhn + b0 * H, sizeof(RT) * (size_t)(nb * H));
    }
}

static void OT_RNN_FN(bwd_dir)(const ot_rnn_desc *d, int dir, bool rev, const ot_rnn_bwd_io *io, const ot_rnn_saved *sv,
                               RT *fscr, RT *bscr) {
    const int64_t T = d->T, B = d->B, I = d->I, H = d->H, GH = ot_rnn_gates(d->kind) * H, rows = T * B;
    const bool gru = d->kind == OT_RNN_GRU, lstm = d->kind == OT_RNN_LSTM, lbr = gru && d->linear_before_reset;
    ot_rnn_fwd_io fio = io->f;
    fio.Y = fio.Yh = fio.Yc = NULL;
    OT_RNN_FN(ot_rnn_fwd_dir)(d, dir, rev, &fio, sv, fscr);

    const RT *X = io->f.X, *W = (const RT *)io->f.W + dir * GH * I, *R = (const RT *)io->f.R + dir * GH * H;
    RT *pre = sv->pre, *hprev = sv->hprev, *extra = sv->extra;
    OT_RNN_FN(bwd_ctx) x = {d, dir, rev, io, R, io->f.P ? (const RT *)io->f.P + dir * 3 * H : NULL, pre, hprev,
                            sv->cprev, extra};
    x.dh = bscr, x.dc = x.dh + B * H, x.dhn = x.dc + B * H, x.dA = x.dhn + B * H, x.tmp = x.dA + B * GH;
    x.dq = x.tmp + 10 * B * H, x.cn = x.dq + B * H, x.dP = x.cn + B * H;
    ot_rnn_load_state(d, dir, io->dYh, x.dh, sizeof(RT));
    if (lstm) ot_rnn_load_state(d, dir, io->dYc, x.dc, sizeof(RT));
    memset(x.dP, 0, sizeof(RT) * (size_t)(B * 3 * H));
    const int nch = ot_rnn_chunks(d);
#pragma omp parallel for schedule(static) num_threads(nch) if (nch > 1)
    for (int ch = 0; ch < nch; ch++) OT_RNN_FN(bwd_rows)(&x, B * ch / nch, B * (ch + 1) / nch);

    ot_rnn_store_state(d, dir, x.dh, io->dh0, sizeof(RT));
    if (lstm) ot_rnn_store_state(d, dir, x.dc, io->dc0, sizeof(RT));
    if (io->dP && x.P) { /* the rows' partial sums, in row order whatever the threads */
        RT *dP = (RT *)io->dP + dir * 3 * H;
        memset(dP, 0, sizeof(RT) * (size_t)(3 * H));
        for (int64_t b = 0; b < B; b++)
            for (int64_t k = 0; k < 3 * H; k++) dP[k] += x.dP[b * 3 * H + k];
    }

    /* Over all steps (rows past a sequence's end are zero in pre / hprev / extra). */
    if (io->dW) GEMM(true, false, GH, I, rows, 1, pre, GH, X, I, 0, (RT *)io->dW + dir * GH * I, I);
    if (io->dX) GEMM(false, false, rows, I, GH, 1, pre, GH, W, I, dir ? 1 : 0, io->dX, I);
    if (io->dR) {
        RT *dR = (RT *)io->dR + dir * GH * H;
        GEMM(true, false, gru ? 2 * H : GH, H, rows, 1, pre, GH, hprev, H, 0, dR, H);
        if (lbr) GEMM(true, false, H, H, rows, 1, extra, H, hprev, H, 0, dR + 2 * H * H, H);
        else if (gru) GEMM(true, false, H, H, rows, 1, pre + 2 * H, GH, extra, H, 0, dR + 2 * H * H, H);
    }
    if (io->dB) {
        RT *dB = (RT *)io->dB + dir * 2 * GH;
        OT_RNN_FN(colsum)(pre, rows, GH, GH, dB);
        memcpy(dB + GH, dB, sizeof(RT) * (size_t)GH);
        if (lbr) OT_RNN_FN(colsum)(extra, rows, H, H, dB + GH + 2 * H);
    }
}

#undef GEMM
#undef ACTG
