/* RoiAlign forward and X-gradient, written once over the element type:
 * kernels/cpu/detection.c includes this file with T (float / double) and SUF
 * (f32 / f64) defined.  See detection.h for the shapes and semantics.
 *
 * The arithmetic follows ONNX Runtime / the ONNX reference operation for
 * operation (in T, same order), so sample positions that land exactly on a
 * pixel boundary round the same way.  Sample coordinates are separable: a
 * roi's taps (corner indices and weights) along y and along x are tabled
 * once and shared by a chunk of channels. */

#define RA_FN(name) RA_CAT(name, SUF)
#define RA_CAT(a, b) RA_CAT2(a, b)
#define RA_CAT2(a, b) a##_##b

/* One roi's sampling grid. */
typedef struct RA_FN(ra_geo) {
    T start_h, start_w, bin_h, bin_w;
    int64_t grid_h, grid_w;
    T count; /* samples per bin, at least 1 */
} RA_FN(ra_geo);

/* One bilinear sample: the four corner offsets in the plane and their weights;
   valid false for a sample outside [-1, H] x [-1, W] (it reads as 0). */
typedef struct RA_FN(ra_axis) {
    int64_t lo, hi;
    T l, h; /* weights of hi and lo */
    bool valid;
} RA_FN(ra_axis);

static int64_t RA_FN(ra_grid)(T size, int64_t bins) {
    double v = ceil((double)(size / (T)bins));
    return !(v > 0) ? 0 : v > (double)(1 << 20) ? (int64_t)1 << 20 : (int64_t)v;
}

static void RA_FN(ra_geometry)(const ot_roi_align_params *p, const T *roi, RA_FN(ra_geo) *g) {
    const T scale = (T)p->spatial_scale, off = p->half_pixel ? (T)0.5 : (T)0;
    T sw = roi[0] * scale - off, sh = roi[1] * scale - off;
    T ew = roi[2] * scale - off, eh = roi[3] * scale - off;
    T rw = ew - sw, rh = eh - sh;
    if (!p->half_pixel) { /* malformed rois become 1x1 (the legacy behaviour) */
        rw = rw > (T)1 ? rw : (T)1;
        rh = rh > (T)1 ? rh : (T)1;
    }
    g->start_h = sh;
    g->start_w = sw;
    g->bin_h = rh / (T)p->out_h;
    g->bin_w = rw / (T)p->out_w;
    g->grid_h = p->sampling_ratio > 0 ? p->sampling_ratio : RA_FN(ra_grid)(rh, p->out_h);
    g->grid_w = p->sampling_ratio > 0 ? p->sampling_ratio : RA_FN(ra_grid)(rw, p->out_w);
    int64_t cnt = g->grid_h * g->grid_w;
    g->count = (T)(cnt > 1 ? cnt : 1);
}

/* Coordinate v along an axis of `size` pixels -> its two taps. */
static inline RA_FN(ra_axis) RA_FN(ra_tap)(T v, int64_t size) {
    RA_FN(ra_axis) a = {0, 0, 0, 0, false};
    if (v < (T)-1 || v > (T)size) return a;
    if (v < 0) v = 0;
    a.lo = (int64_t)v;
    if (a.lo >= size - 1) {
        a.lo = a.hi = size - 1;
        v = (T)a.lo;
    } else {
        a.hi = a.lo + 1;
    }
    a.l = v - (T)a.lo;
    a.h = (T)1 - a.l;
    a.valid = true;
    return a;
}

/* Position of sample i of `grid` in bin b. */
static inline T RA_FN(ra_pos)(T start, T bin, int64_t b, int64_t i, int64_t grid) {
    return start + (T)b * bin + ((T)i + (T)0.5) * bin / (T)grid;
}

/* Taps of an axis for every (bin, sample): bins * grid entries.  Rois with
   grids larger than RA_TABLE taps per axis (huge adaptive grids) compute
   their taps per sample instead, with the same arithmetic. */
#define RA_TABLE 512
static bool RA_FN(ra_table)(T start, T bin, int64_t bins, int64_t grid, int64_t size, RA_FN(ra_axis) *out) {
    if (bins * grid > RA_TABLE) return false;
    for (int64_t b = 0; b < bins; b++)
        for (int64_t i = 0; i < grid; i++) out[b * grid + i] = RA_FN(ra_tap)(RA_FN(ra_pos)(start, bin, b, i, grid), size);
    return true;
}

/* Bin (ph, pw) of plane x; yt / xt: the taps of row ph / column pw, or NULL
   (computed here).  Max mode: *arg receives the winning corner's plane
   offset and *argw its weight (-1 / 0 when a sample outside the image, which
   reads as 0, won or the bin has no samples). */
static T RA_FN(ra_bin)(const ot_roi_align_params *p, const RA_FN(ra_geo) *g, const T *x, int64_t ph, int64_t pw,
                       const RA_FN(ra_axis) *yt, const RA_FN(ra_axis) *xt, int64_t *arg, T *argw) {
    const int64_t H = p->H, W = p->W;
    T acc = 0;
    bool have = false;
    int64_t best = -1;
    T bestw = 0;
    for (int64_t iy = 0; iy < g->grid_h; iy++) {
        RA_FN(ra_axis) ay = yt ? yt[iy] : RA_FN(ra_tap)(RA_FN(ra_pos)(g->start_h, g->bin_h, ph, iy, g->grid_h), H);
        const T *r0 = x + ay.lo * W, *r1 = x + ay.hi * W;
        if (!p->max_mode) {
            if (!ay.valid) continue;
            for (int64_t ix = 0; ix < g->grid_w; ix++) {
                RA_FN(ra_axis) ax = xt ? xt[ix] : RA_FN(ra_tap)(RA_FN(ra_pos)(g->start_w, g->bin_w, pw, ix, g->grid_w), W);
                if (ax.valid)
                    acc += ay.h * ax.h * r0[ax.lo] + ay.h * ax.l * r0[ax.hi] + ay.l * ax.h * r1[ax.lo] +
                           ay.l * ax.l * r1[ax.hi];
            }
            continue;
        }
        for (int64_t ix = 0; ix < g->grid_w; ix++) {
            RA_FN(ra_axis) ax = xt ? xt[ix] : RA_FN(ra_tap)(RA_FN(ra_pos)(g->start_w, g->bin_w, pw, ix, g->grid_w), W);
            /* max of the four weighted corner terms, the first on ties */
            T cand = 0, cw = 0;
            int64_t carg = -1;
            if (ay.valid && ax.valid) {
                T w[4] = {ay.h * ax.h, ay.h * ax.l, ay.l * ax.h, ay.l * ax.l};
                int64_t o[4] = {ay.lo * W + ax.lo, ay.lo * W + ax.hi, ay.hi * W + ax.lo, ay.hi * W + ax.hi};
                cand = w[0] * x[o[0]];
                carg = o[0];
                cw = w[0];
                for (int k = 1; k < 4; k++) {
                    T v = w[k] * x[o[k]];
                    if (v > cand) {
                        cand = v;
                        carg = o[k];
                        cw = w[k];
                    }
                }
            }
            if (!have || cand > acc) {
                acc = cand;
                best = carg;
                bestw = cw;
                have = true;
            }
        }
    }
    if (arg) {
        *arg = best;
        *argw = bestw;
    }
    return p->max_mode ? acc : acc / g->count;
}

/* One roi's geometry and tap tables (tables NULL when too large). */
typedef struct RA_FN(ra_roi) {
    RA_FN(ra_geo) g;
    RA_FN(ra_axis) ys[RA_TABLE], xs[RA_TABLE];
    bool have_y, have_x;
} RA_FN(ra_roi);

static void RA_FN(ra_prepare)(const ot_roi_align_params *p, const T *roi, RA_FN(ra_roi) *r) {
    RA_FN(ra_geometry)(p, roi, &r->g);
    r->have_y = RA_FN(ra_table)(r->g.start_h, r->g.bin_h, p->out_h, r->g.grid_h, p->H, r->ys);
    r->have_x = RA_FN(ra_table)(r->g.start_w, r->g.bin_w, p->out_w, r->g.grid_w, p->W, r->xs);
}

static inline T RA_FN(ra_bin_of)(const ot_roi_align_params *p, const RA_FN(ra_roi) *r, const T *x, int64_t ph,
                                 int64_t pw, int64_t *arg, T *argw) {
    return RA_FN(ra_bin)(p, &r->g, x, ph, pw, r->have_y ? r->ys + ph * r->g.grid_h : NULL,
                         r->have_x ? r->xs + pw * r->g.grid_w : NULL, arg, argw);
}

/* Channels per task: a roi's taps are shared by the channels of a chunk,
   whose independent sums also keep the arithmetic units busy. */
#define RA_CHUNK 16

static inline RA_FN(ra_axis) RA_FN(ra_ytap)(const ot_roi_align_params *p, const RA_FN(ra_roi) *r, int64_t ph, int64_t iy) {
    const RA_FN(ra_geo) *g = &r->g;
    return r->have_y ? r->ys[ph * g->grid_h + iy] : RA_FN(ra_tap)(RA_FN(ra_pos)(g->start_h, g->bin_h, ph, iy, g->grid_h), p->H);
}
static inline RA_FN(ra_axis) RA_FN(ra_xtap)(const ot_roi_align_params *p, const RA_FN(ra_roi) *r, int64_t pw, int64_t ix) {
    const RA_FN(ra_geo) *g = &r->g;
    return r->have_x ? r->xs[pw * g->grid_w + ix] : RA_FN(ra_tap)(RA_FN(ra_pos)(g->start_w, g->bin_w, pw, ix, g->grid_w), p->W);
}

/* Avg mode, nch channels (planes x, outputs y, bins apart): each channel
   sums its samples in the order the reference does. */
static void RA_FN(ra_avg_chunk)(const ot_roi_align_params *p, const RA_FN(ra_roi) *r, const T *x, int64_t nch, T *y) {
    const int64_t W = p->W, plane = p->H * W, bins = p->out_h * p->out_w;
    const RA_FN(ra_geo) *g = &r->g;
    for (int64_t ph = 0; ph < p->out_h; ph++)
        for (int64_t pw = 0; pw < p->out_w; pw++) {
            T acc[RA_CHUNK] = {0};
            for (int64_t iy = 0; iy < g->grid_h; iy++) {
                RA_FN(ra_axis) ay = RA_FN(ra_ytap)(p, r, ph, iy);
                if (!ay.valid) continue;
                for (int64_t ix = 0; ix < g->grid_w; ix++) {
                    RA_FN(ra_axis) ax = RA_FN(ra_xtap)(p, r, pw, ix);
                    if (!ax.valid) continue;
                    T w0 = ay.h * ax.h, w1 = ay.h * ax.l, w2 = ay.l * ax.h, w3 = ay.l * ax.l;
                    int64_t o0 = ay.lo * W + ax.lo, o1 = ay.lo * W + ax.hi, o2 = ay.hi * W + ax.lo, o3 = ay.hi * W + ax.hi;
                    const T *xc = x;
                    for (int64_t c = 0; c < nch; c++, xc += plane)
                        acc[c] += w0 * xc[o0] + w1 * xc[o1] + w2 * xc[o2] + w3 * xc[o3];
                }
            }
            for (int64_t c = 0; c < nch; c++) y[c * bins + ph * p->out_w + pw] = acc[c] / g->count;
        }
}

/* Avg-mode gradient of one roi into nch planes of dx from dy (bins apart). */
static void RA_FN(ra_avg_chunk_grad)(const ot_roi_align_params *p, const RA_FN(ra_roi) *r, const T *dy, int64_t nch,
                                     T *dx) {
    const int64_t W = p->W, plane = p->H * W, bins = p->out_h * p->out_w;
    const RA_FN(ra_geo) *g = &r->g;
    for (int64_t ph = 0; ph < p->out_h; ph++)
        for (int64_t pw = 0; pw < p->out_w; pw++) {
            T gv[RA_CHUNK];
            for (int64_t c = 0; c < nch; c++) gv[c] = dy[c * bins + ph * p->out_w + pw] / g->count;
            for (int64_t iy = 0; iy < g->grid_h; iy++) {
                RA_FN(ra_axis) ay = RA_FN(ra_ytap)(p, r, ph, iy);
                if (!ay.valid) continue;
                for (int64_t ix = 0; ix < g->grid_w; ix++) {
                    RA_FN(ra_axis) ax = RA_FN(ra_xtap)(p, r, pw, ix);
                    if (!ax.valid) continue;
                    T w0 = ay.h * ax.h, w1 = ay.h * ax.l, w2 = ay.l * ax.h, w3 = ay.l * ax.l;
                    int64_t o0 = ay.lo * W + ax.lo, o1 = ay.lo * W + ax.hi, o2 = ay.hi * W + ax.lo, o3 = ay.hi * W + ax.hi;
                    T *dc = dx;
                    for (int64_t c = 0; c < nch; c++, dc += plane) {
                        dc[o0] += w0 * gv[c];
                        dc[o1] += w1 * gv[c];
                        dc[o2] += w2 * gv[c];
                        dc[o3] += w3 * gv[c];
                    }
                }
            }
        }
}

void RA_FN(ot_roi_align)(const ot_roi_align_params *p, const T *X, const T *rois, const int64_t *batch, T *Y) {
    const int64_t C = p->C, R = p->R, bins = p->out_h * p->out_w, plane = p->H * p->W;
    const int64_t chunks = (C + RA_CHUNK - 1) / RA_CHUNK;
    if (plane == 0) { /* every sample falls outside an empty map */
        memset(Y, 0, sizeof(T) * (size_t)(R * C * bins));
        return;
    }
#pragma omp parallel for schedule(dynamic, 1) if (R * C * bins > 4096 && !omp_in_parallel())
    for (int64_t t = 0; t < R * chunks; t++) {
        int64_t r = t / chunks, c0 = t % chunks * RA_CHUNK, c1 = c0 + RA_CHUNK < C ? c0 + RA_CHUNK : C;
        RA_FN(ra_roi) rr;
        RA_FN(ra_prepare)(p, rois + 4 * r, &rr);
        const T *x = X + (batch[r] * C + c0) * plane;
        T *y = Y + (r * C + c0) * bins;
        if (!p->max_mode) {
            RA_FN(ra_avg_chunk)(p, &rr, x, c1 - c0, y);
            continue;
        }
        for (int64_t c = 0; c < c1 - c0; c++)
            for (int64_t ph = 0; ph < p->out_h; ph++)
                for (int64_t pw = 0; pw < p->out_w; pw++)
                    y[c * bins + ph * p->out_w + pw] = RA_FN(ra_bin_of)(p, &rr, x + c * plane, ph, pw, NULL, NULL);
    }
}

/* Threads own chunks of (image, channel) planes of dX, so scatters never
   race: each walks every roi of its image. */
void RA_FN(ot_roi_align_grad)(const ot_roi_align_params *p, const T *dY, const T *X, const T *rois,
                              const int64_t *batch, T *dX) {
    const int64_t N = p->N, C = p->C, R = p->R, bins = p->out_h * p->out_w, plane = p->H * p->W;
    const int64_t chunks = (C + RA_CHUNK - 1) / RA_CHUNK;
    if (plane == 0) return;
    memset(dX, 0, sizeof(T) * (size_t)(N * C * plane));
#pragma omp parallel for schedule(dynamic, 1) if (N * C * plane > 4096 && !omp_in_parallel())
    for (int64_t t = 0; t < N * chunks; t++) {
        int64_t n = t / chunks, c0 = t % chunks * RA_CHUNK, c1 = c0 + RA_CHUNK < C ? c0 + RA_CHUNK : C;
        T *dx = dX + (n * C + c0) * plane;
        RA_FN(ra_roi) rr;
        for (int64_t r = 0; r < R; r++) {
            if (batch[r] != n) continue;
            RA_FN(ra_prepare)(p, rois + 4 * r, &rr);
            const T *dy = dY + (r * C + c0) * bins;
            if (!p->max_mode) {
                RA_FN(ra_avg_chunk_grad)(p, &rr, dy, c1 - c0, dx);
                continue;
            }
            for (int64_t c = 0; c < c1 - c0; c++)
                for (int64_t ph = 0; ph < p->out_h; ph++)
                    for (int64_t pw = 0; pw < p->out_w; pw++) {
                        int64_t arg;
                        T w;
                        RA_FN(ra_bin_of)(p, &rr, X + (n * C + c0 + c) * plane, ph, pw, &arg, &w);
                        if (arg >= 0) dx[c * plane + arg] += w * dy[c * bins + ph * p->out_w + pw];
                    }
        }
    }
}

#undef RA_TABLE
#undef RA_CHUNK
#undef RA_FN
#undef RA_CAT
#undef RA_CAT2
