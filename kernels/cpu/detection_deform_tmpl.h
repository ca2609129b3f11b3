/* DeformConv forward and backward, written once over the element type:
 * kernels/cpu/detection.c includes this file with T (float / double), SUF
 * (f32 / f64) and GEMM (ot_gemm_f32 / ot_gemm_f64) defined.  See
 * detection.h for the shapes and semantics.
 *
 * Per image n the deformable "im2col" builds col (C * K, P) (P output
 * positions), tap k of channel c holding mask * X_c sampled at the shifted
 * position; then Y_g = W_g col_g per group, one GEMM each.  The backward
 * takes dcol_g = W_g^T dY_g and spreads it: into dX through the sampling
 * weights, into doffset through their derivatives, into dmask through the
 * unmasked samples; dW_g = sum_n dY_g col_g^T.
 *
 * The sample coordinates depend on (offset group, tap, position) only, so
 * they are computed for a block of positions and reused by every channel of
 * the offset group. */

#define DC_FN(name) DC_CAT(name, SUF)
#define DC_CAT(a, b) DC_CAT2(a, b)
#define DC_CAT2(a, b) a##_##b

/* Corners of one block of positions (1 << n per position). */
#define DC_CORNERS 512

static void DC_FN(dc_unravel)(int n, const int64_t *dims, int64_t i, int64_t *out) {
    for (int d = n - 1; d >= 0; d--) {
        out[d] = i % dims[d];
        i /= dims[d];
    }
}

/* floor(v) for v > -1, without a libm call. */
static inline int64_t DC_FN(dc_floor)(T v) { return v < 0 ? -1 : (int64_t)v; }

/* The corners of the sample at coord (n dims): plane offsets in idx, weights
 * in w, and with dw the derivative of each weight along each dim
 * (dw[d * nc + j]); corner j takes the upper neighbour along dim d when bit
 * d of j is set.  Corners outside the image get weight 0 and offset 0 (the
 * caller guarantees a non-empty image), so callers need no branch. */
static void DC_FN(dc_corners)(const ot_conv_geom *g, const T *coord, int64_t *idx, T *w, T *dw) {
    const int n = g->n, nc = 1 << n;
    int64_t lo[OT_WINDOW_MAX_DIMS];
    T fr[OT_WINDOW_MAX_DIMS];
    bool inside = true;
    for (int d = 0; d < n; d++) {
        T v = coord[d];
        if (!(v > (T)-1 && v < (T)g->img[d])) { /* wholly in the zero padding (or NaN) */
            inside = false;
            break;
        }
        lo[d] = DC_FN(dc_floor)(v);
        fr[d] = v - (T)lo[d];
    }
    for (int j = 0; j < nc; j++) {
        int64_t off = 0;
        T wt = inside ? (T)1 : (T)0;
        bool ok = inside;
        for (int d = 0; d < n && ok; d++) {
            int bit = (j >> d) & 1;
            int64_t i = lo[d] + bit;
            if (i < 0 || i >= g->img[d]) ok = false;
            off = off * g->img[d] + i;
            wt *= bit ? fr[d] : (T)1 - fr[d];
        }
        idx[j] = ok ? off : 0;
        w[j] = ok ? wt : (T)0;
        if (!dw) continue;
        for (int d = 0; d < n; d++) { /* d w / d coord_d: the other dims' factors, signed */
            T pd = ok ? ((j >> d) & 1 ? (T)1 : (T)-1) : (T)0;
            for (int e = 0; e < n && ok; e++)
                if (e != d) pd *= (j >> e) & 1 ? fr[e] : (T)1 - fr[e];
            dw[d * nc + j] = pd;
        }
    }
}

/* The same for images (two dims), unrolled; identical results. */
static inline void DC_FN(dc_corners2)(const ot_conv_geom *g, T y, T x, int64_t *idx, T *w, T *dw) {
    const int64_t H = g->img[0], W = g->img[1];
    for (int j = 0; j < 4; j++) idx[j] = 0, w[j] = 0;
    if (dw)
        for (int j = 0; j < 8; j++) dw[j] = 0;
    if (!(y > (T)-1 && y < (T)H && x > (T)-1 && x < (T)W)) return;
    int64_t y0 = DC_FN(dc_floor)(y), x0 = DC_FN(dc_floor)(x);
    T ly = y - (T)y0, lx = x - (T)x0, hy = (T)1 - ly, hx = (T)1 - lx;
    bool vy[2] = {y0 >= 0, y0 + 1 < H}, vx[2] = {x0 >= 0, x0 + 1 < W};
    T fy[2] = {hy, ly}, fx[2] = {hx, lx};
    for (int j = 0; j < 4; j++) {
        int by = j & 1, bx = j >> 1;
        if (!vy[by] || !vx[bx]) continue;
        idx[j] = (y0 + by) * W + x0 + bx;
        w[j] = fy[by] * fx[bx];
        if (dw) {
            dw[j] = (by ? (T)1 : (T)-1) * fx[bx];
            dw[4 + j] = (bx ? (T)1 : (T)-1) * fy[by];
        }
    }
}

/* Corners of tap k of offset group og at positions [p0, p1) (at most
 * DC_CORNERS >> n of them): idx and w (nc per position, w scaled by the mask
 * when mask is given), dw (n * nc per position) when non-NULL.  off is the
 * image's offset tensor (OG * K * n, P), mask (OG * K, P). */
static void DC_FN(dc_block)(const ot_deform_geom *dg, const T *off, const T *mask, int64_t og, int64_t k, int64_t p0,
                            int64_t p1, int64_t *idx, T *w, T *dw) {
    const ot_conv_geom *g = &dg->conv;
    const int n = g->n, nc = 1 << n;
    const int64_t P = g->col_size, K = g->kernel_size;
    const T *offk = off + (og * K + k) * n * P; /* dim d of position p: offk[d * P + p] */
    int64_t kk[OT_WINDOW_MAX_DIMS], o[OT_WINDOW_MAX_DIMS];
    DC_FN(dc_unravel)(n, g->kernel, k, kk);
    DC_FN(dc_unravel)(n, g->col, p0, o);
    for (int64_t p = p0; p < p1; p++) {
        int64_t q = p - p0;
        T coord[OT_WINDOW_MAX_DIMS];
        for (int d = 0; d < n; d++)
            coord[d] = (T)(o[d] * g->stride[d] - g->pad[d] + kk[d] * g->dilation[d]) + offk[d * P + p];
        if (n == 2) DC_FN(dc_corners2)(g, coord[0], coord[1], idx + q * nc, w + q * nc, dw ? dw + q * nc * n : NULL);
        else DC_FN(dc_corners)(g, coord, idx + q * nc, w + q * nc, dw ? dw + q * nc * n : NULL);
        if (mask) {
            T m = mask[(og * K + k) * P + p];
            for (int j = 0; j < nc; j++) w[q * nc + j] *= m;
        }
        for (int d = n - 1; d >= 0; d--) { /* next output position */
            if (++o[d] < g->col[d]) break;
            o[d] = 0;
        }
    }
}

/* col (C * K, P) of one image: X (C, img...), off (OG * K * n, P), mask
   (OG * K, P) or NULL. */
static void DC_FN(dc_im2col)(const ot_deform_geom *dg, const T *X, const T *off, const T *mask, T *col) {
    const ot_conv_geom *g = &dg->conv;
    const int n = g->n, nc = 1 << n;
    const int64_t P = g->col_size, K = g->kernel_size, Cog = dg->C / dg->OG, blk = DC_CORNERS >> n;
    const int64_t nblk = (P + blk - 1) / blk, tasks = dg->OG * K * nblk;
#pragma omp parallel for schedule(static) if (dg->C * K * P > 32768 && !omp_in_parallel())
    for (int64_t t = 0; t < tasks; t++) {
        int64_t og = t / (K * nblk), k = t / nblk % K, p0 = t % nblk * blk, p1 = p0 + blk < P ? p0 + blk : P;
        int64_t idx[DC_CORNERS];
        T w[DC_CORNERS];
        DC_FN(dc_block)(dg, off, mask, og, k, p0, p1, idx, w, NULL);
        for (int64_t c = og * Cog; c < (og + 1) * Cog; c++) {
            const T *xc = X + c * g->img_size;
            T *dst = col + (c * K + k) * P;
            if (nc == 4) {
                for (int64_t p = p0; p < p1; p++) {
                    const int64_t *ip = idx + (p - p0) * 4;
                    const T *wp = w + (p - p0) * 4;
                    dst[p] = wp[0] * xc[ip[0]] + wp[1] * xc[ip[1]] + wp[2] * xc[ip[2]] + wp[3] * xc[ip[3]];
                }
                continue;
            }
            for (int64_t p = p0; p < p1; p++) {
                const int64_t *ip = idx + (p - p0) * nc;
                const T *wp = w + (p - p0) * nc;
                T s = 0;
                for (int j = 0; j < nc; j++) s += wp[j] * xc[ip[j]];
                dst[p] = s;
            }
        }
    }
}

/* dX (C, img...) of one image from dcol (C * K, P).  Threads own chunks of
   channels (their planes), and a chunk shares each block's corners; a
   plane sums in (k, p) order whatever the chunking. */
static void DC_FN(dc_col2im)(const ot_deform_geom *dg, const T *dcol, const T *off, const T *mask, T *dX) {
    const ot_conv_geom *g = &dg->conv;
    const int n = g->n, nc = 1 << n;
    const int64_t P = g->col_size, K = g->kernel_size, Cog = dg->C / dg->OG, blk = DC_CORNERS >> n;
    int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    int64_t want = 2 * threads / dg->OG; /* chunks per offset group: about two tasks per thread */
    if (want < 1) want = 1;
    const int64_t per = (Cog + want - 1) / want; /* channels per chunk */
    const int64_t chunks = (Cog + per - 1) / per;
    memset(dX, 0, sizeof(T) * (size_t)(dg->C * g->img_size));
#pragma omp parallel for schedule(dynamic, 1) if (dg->C * K * P > 32768 && !omp_in_parallel())
    for (int64_t t = 0; t < dg->OG * chunks; t++) {
        int64_t og = t / chunks, c0 = og * Cog + t % chunks * per, c1 = c0 + per < (og + 1) * Cog ? c0 + per : (og + 1) * Cog;
        int64_t idx[DC_CORNERS];
        T w[DC_CORNERS];
        for (int64_t k = 0; k < K; k++)
            for (int64_t p0 = 0; p0 < P; p0 += blk) {
                int64_t p1 = p0 + blk < P ? p0 + blk : P;
                DC_FN(dc_block)(dg, off, mask, og, k, p0, p1, idx, w, NULL);
                for (int64_t c = c0; c < c1; c++) {
                    T *dx = dX + c * g->img_size;
                    const T *src = dcol + (c * K + k) * P;
                    for (int64_t p = p0; p < p1; p++) {
                        const int64_t *ip = idx + (p - p0) * nc;
                        const T *wp = w + (p - p0) * nc;
                        T gv = src[p];
                        if (nc == 4) {
                            dx[ip[0]] += wp[0] * gv;
                            dx[ip[1]] += wp[1] * gv;
                            dx[ip[2]] += wp[2] * gv;
                            dx[ip[3]] += wp[3] * gv;
                            continue;
                        }
                        for (int j = 0; j < nc; j++) dx[ip[j]] += wp[j] * gv;
                    }
                }
            }
    }
}

/* doffset (OG * K * n, P) and dmask (OG * K, P) of one image (either may be
   NULL): sums over the channels of each offset group. */
static void DC_FN(dc_coord_grad)(const ot_deform_geom *dg, const T *dcol, const T *X, const T *off, const T *mask,
                                 T *doff, T *dmask) {
    const ot_conv_geom *g = &dg->conv;
    const int n = g->n, nc = 1 << n;
    const int64_t P = g->col_size, K = g->kernel_size, Cog = dg->C / dg->OG;
    const int64_t blk = DC_CORNERS >> n;
    const int64_t nblk = (P + blk - 1) / blk, tasks = dg->OG * K * nblk;
#pragma omp parallel for schedule(static) if (dg->C * K * P > 16384 && !omp_in_parallel())
    for (int64_t t = 0; t < tasks; t++) {
        int64_t og = t / (K * nblk), k = t / nblk % K, p0 = t % nblk * blk, p1 = p0 + blk < P ? p0 + blk : P;
        int64_t idx[DC_CORNERS];
        T w[DC_CORNERS], dw[DC_CORNERS * OT_WINDOW_MAX_DIMS];
        T am[DC_CORNERS], ao[DC_CORNERS * OT_WINDOW_MAX_DIMS]; /* per position: sum g * v, sum g * dv/dcoord */
        DC_FN(dc_block)(dg, off, NULL, og, k, p0, p1, idx, w, dw);
        for (int64_t q = 0; q < p1 - p0; q++) {
            am[q] = 0;
            for (int d = 0; d < n; d++) ao[q * n + d] = 0;
        }
        for (int64_t c = og * Cog; c < (og + 1) * Cog; c++) {
            const T *xc = X + c * g->img_size, *src = dcol + (c * K + k) * P;
            if (n == 2) { /* images: the four corners unrolled */
                for (int64_t q = 0; q < p1 - p0; q++) {
                    const int64_t *ip = idx + 4 * q;
                    const T *wq = w + 4 * q, *dq = dw + 8 * q;
                    T gv = src[p0 + q], x0 = xc[ip[0]], x1 = xc[ip[1]], x2 = xc[ip[2]], x3 = xc[ip[3]];
                    am[q] += gv * (wq[0] * x0 + wq[1] * x1 + wq[2] * x2 + wq[3] * x3);
                    ao[2 * q] += gv * (dq[0] * x0 + dq[1] * x1 + dq[2] * x2 + dq[3] * x3);
                    ao[2 * q + 1] += gv * (dq[4] * x0 + dq[5] * x1 + dq[6] * x2 + dq[7] * x3);
                }
                continue;
            }
            for (int64_t p = p0; p < p1; p++) {
                int64_t q = p - p0;
                T gv = src[p];
                const int64_t *ip = idx + q * nc;
                T v = 0;
                for (int j = 0; j < nc; j++) v += w[q * nc + j] * xc[ip[j]];
                am[q] += gv * v;
                for (int d = 0; d < n; d++) {
                    const T *dwd = dw + q * nc * n + d * nc;
                    T s = 0;
                    for (int j = 0; j < nc; j++) s += dwd[j] * xc[ip[j]];
                    ao[q * n + d] += gv * s;
                }
            }
        }
        for (int64_t p = p0; p < p1; p++) {
            int64_t q = p - p0;
            T m = mask ? mask[(og * K + k) * P + p] : (T)1;
            if (dmask) dmask[(og * K + k) * P + p] = am[q];
            if (doff)
                for (int d = 0; d < n; d++) doff[((og * K + k) * n + d) * P + p] = ao[q * n + d] * m;
        }
    }
}

static ot_status DC_FN(dc_forward)(const ot_deform_geom *dg, const T *X, const T *W, const T *off, const T *mask,
                                   const T *B, T *Y) {
    const ot_conv_geom *g = &dg->conv;
    const int64_t P = g->col_size, K = g->kernel_size, n = g->n, G = dg->G, M = dg->M, C = dg->C, OG = dg->OG;
    const int64_t Mg = M / G, CgK = C / G * K;
    if (g->img_size == 0) { /* every sample reads zero padding: Y = B */
        for (int64_t i = 0; i < dg->N * M; i++)
            for (int64_t p = 0; p < P; p++) Y[i * P + p] = B ? B[i % M] : (T)0;
        return OT_OK;
    }
    T *col = ot_workspace_alloc(sizeof(T) * (size_t)(C * K * P + 1));
    if (!col) return ot_error(OT_ERR_NOMEM, "out of memory for DeformConv's %lld x %lld column matrix",
                              (long long)(C * K), (long long)P);
    for (int64_t b = 0; b < dg->N; b++) {
        DC_FN(dc_im2col)(dg, X + b * C * g->img_size, off + b * OG * K * n * P, mask ? mask + b * OG * K * P : NULL, col);
        T *y = Y + b * M * P;
        for (int64_t gi = 0; gi < G; gi++)
            GEMM(false, false, Mg, P, CgK, (T)1, W + gi * Mg * CgK, CgK, col + gi * CgK * P, P, (T)0, y + gi * Mg * P, P);
        if (B)
#pragma omp parallel for schedule(static) if (M * P > 65536 && !omp_in_parallel())
            for (int64_t m = 0; m < M; m++)
                for (int64_t p = 0; p < P; p++) y[m * P + p] += B[m];
    }
    ot_workspace_free(col);
    return OT_OK;
}

static ot_status DC_FN(dc_backward)(const ot_deform_geom *dg, const T *dY, const T *X, const T *W, const T *off,
                                    const T *mask, T *dX, T *dW, T *doff, T *dmask, T *dB) {
    const ot_conv_geom *g = &dg->conv;
    const int64_t P = g->col_size, K = g->kernel_size, n = g->n, G = dg->G, M = dg->M, C = dg->C, OG = dg->OG;
    const int64_t N = dg->N, Mg = M / G, CgK = C / G * K;
    if (dB)
#pragma omp parallel for schedule(static) if (N * M * P > 65536 && !omp_in_parallel())
        for (int64_t m = 0; m < M; m++) {
            T s = 0;
            for (int64_t b = 0; b < N; b++)
                for (int64_t p = 0; p < P; p++) s += dY[(b * M + m) * P + p];
            dB[m] = s;
        }
    if (g->img_size == 0 || P == 0 || N == 0) { /* no sample reads X: only zeros flow */
        if (dX) memset(dX, 0, sizeof(T) * (size_t)(N * C * g->img_size));
        if (dW) memset(dW, 0, sizeof(T) * (size_t)(M * CgK));
        if (doff) memset(doff, 0, sizeof(T) * (size_t)(N * OG * K * n * P));
        if (dmask) memset(dmask, 0, sizeof(T) * (size_t)(N * OG * K * P));
        return OT_OK;
    }
    if (!dX && !dW && !doff && !dmask) return OT_OK;
    T *col = ot_workspace_alloc(sizeof(T) * (size_t)(C * K * P + 1));
    if (!col) return ot_error(OT_ERR_NOMEM, "out of memory for DeformConv's %lld x %lld column matrix",
                              (long long)(C * K), (long long)P);
    for (int64_t b = 0; b < N; b++) {
        const T *x = X + b * C * g->img_size, *o = off + b * OG * K * n * P, *mk = mask ? mask + b * OG * K * P : NULL;
        const T *dy = dY + b * M * P;
        if (dX || doff || dmask) {
            for (int64_t gi = 0; gi < G; gi++) /* dcol_g (CgK, P) = W_g^T dY_g */
                GEMM(true, false, CgK, P, Mg, (T)1, W + gi * Mg * CgK, CgK, dy + gi * Mg * P, P, (T)0, col + gi * CgK * P, P);
            if (dX) DC_FN(dc_col2im)(dg, col, o, mk, dX + b * C * g->img_size);
            if (doff || dmask)
                DC_FN(dc_coord_grad)(dg, col, x, o, mk, doff ? doff + b * OG * K * n * P : NULL,
                                     dmask ? dmask + b * OG * K * P : NULL);
        }
        if (dW) {
            DC_FN(dc_im2col)(dg, x, o, mk, col);
            for (int64_t gi = 0; gi < G; gi++) /* dW_g (Mg, CgK) += dY_g col_g^T */
                GEMM(false, true, Mg, CgK, P, (T)1, dy + gi * Mg * P, P, col + gi * CgK * P, P, b ? (T)1 : (T)0,
                     dW + gi * Mg * CgK, CgK);
        }
    }
    ot_workspace_free(col);
    return OT_OK;
}

#undef DC_FN
#undef DC_CAT
#undef DC_CAT2
#undef DC_CORNERS
