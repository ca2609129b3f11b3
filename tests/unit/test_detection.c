/* The detection family against naive references written in this file:
 * NonMaxSuppression (hand-worked cases, a brute-force greedy selection on
 * random boxes, both box formats, absent / empty optional inputs), RoiAlign
 * (per-sample bilinear formulas in float64: avg / max, both coordinate
 * modes, adaptive sampling, spatial_scale, the opset 10 form, float16),
 * Col2Im (direct scatter, 1-D to 3-D, pads / strides / dilations, integer
 * wrap-around), DeformConv (direct multilinear sampling in 1-D, 2-D, 3-D with
 * groups, offset groups, mask and bias; zero offsets equal Conv), the
 * gradient ops as exact adjoints of the forwards (RoiAlignGrad, Im2Col; also
 * in float16) and DeformConvGrad in float32 / float16 against float64; error
 * cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"
#include "ops/grad.h"

/* run_op for an op of any domain. */
static ot_status run_dom(op_run *r, const char *domain, const char *op, int64_t opset, int n_in, ot_tensor **in,
                         int n_out, const attr_spec *attrs, int n_attrs) {
    run_opts o = {.domain = domain};
    return run_op_x(r, op, opset, n_in, in, n_out, attrs, n_attrs, &o);
}

static ot_tensor *tf(ot_dtype dt, int rank, const int64_t *dims, const double *v) {
    ot_tensor *t = tensor(dt, rank, dims, NULL);
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) ot_store_f64(dt, t->data, i, v[i]);
    return t;
}
static ot_tensor *ti64(int rank, const int64_t *dims, const int64_t *v) { return tensor(OT_INT64, rank, dims, v); }
static double dot(const ot_tensor *a, const ot_tensor *b) {
    double s = 0;
    for (int64_t i = 0; i < ot_tensor_numel(a); i++) s += at(a, i) * at(b, i);
    return s;
}
static void free_all(ot_tensor **t, int n) {
    for (int i = 0; i < n; i++) ot_tensor_free(t[i]);
}

/* ======================= NonMaxSuppression ======================= */

/* The greedy selection, spelled out: repeatedly take the best remaining box
   above the score threshold, keep it unless it overlaps a kept one. */
static int ref_iou_over(const float *a, const float *b, bool center, float thr) {
    float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
    if (center) {
        ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
        bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
    } else {
        ax0 = fminf(a[1], a[3]), ax1 = fmaxf(a[1], a[3]), ay0 = fminf(a[0], a[2]), ay1 = fmaxf(a[0], a[2]);
        bx0 = fminf(b[1], b[3]), bx1 = fmaxf(b[1], b[3]), by0 = fminf(b[0], b[2]), by1 = fmaxf(b[0], b[2]);
    }
    float iw = fminf(ax1, bx1) - fmaxf(ax0, bx0), ih = fminf(ay1, by1) - fmaxf(ay0, by0);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, aa = (ax1 - ax0) * (ay1 - ay0), ab = (bx1 - bx0) * (by1 - by0);
    return inter / (aa + ab - inter) > thr;
}

static int64_t ref_nms(const float *boxes, const float *scores, int64_t B, int64_t K, int64_t S, int64_t maxk,
                       float iou, const float *sthr, bool center, int64_t *out) {
    int64_t n = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < K; k++) {
            const float *sc = scores + (b * K + k) * S;
            char used[64] = {0};
            int64_t kept[64], nk = 0;
            while (nk < maxk) {
                int64_t best = -1;
                for (int64_t i = 0; i < S; i++)
                    if (!used[i] && (!sthr || sc[i] > *sthr) && (best < 0 || sc[i] > sc[best])) best = i;
                if (best < 0) break;
                used[best] = 1;
                int ok = 1;
                for (int64_t j = 0; j < nk && ok; j++)
                    ok = !ref_iou_over(boxes + (b * S + best) * 4, boxes + (b * S + kept[j]) * 4, center, iou);
                if (!ok) continue;
                kept[nk++] = best;
                out[3 * n] = b, out[3 * n + 1] = k, out[3 * n + 2] = best;
                n++;
            }
        }
    return n;
}

static void nms_case(const char *what, int64_t B, int64_t K, int64_t S, const float *boxes, const float *scores,
                     int64_t maxk, float iou, const float *sthr, bool center, int n_in) {
    int64_t bd[3] = {B, S, 4}, sd[3] = {B, K, S}, one = 1;
    ot_tensor *in[5] = {tensor(OT_FLOAT, 3, bd, boxes), tensor(OT_FLOAT, 3, sd, scores), NULL, NULL, NULL};
    if (n_in > 2) in[2] = tensor(OT_INT64, 0, NULL, &maxk);
    if (n_in > 3) in[3] = tensor(OT_FLOAT, 1, &one, &iou);
    if (n_in > 4 && sthr) in[4] = tensor(OT_FLOAT, 1, &one, sthr);
    attr_spec a[1] = {INT("center_point_box", center)};
    op_run r;
    ot_status s = run_op(&r, "NonMaxSuppression", 11, n_in, in, 1, a, 1);
    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
    int64_t want[3 * 64 * 4];
    int64_t n = n_in > 2 ? ref_nms(boxes, scores, B, K, S, maxk, n_in > 3 ? iou : 0, n_in > 4 ? sthr : NULL, center, want) : 0;
    if (s == OT_OK) {
        CHECK_MSG(r.out[0]->rank == 2 && r.out[0]->dims[0] == n && r.out[0]->dims[1] == 3, "%s: %lld rows, want %lld", what,
                  (long long)r.out[0]->dims[0], (long long)n);
        if (r.out[0]->dims[0] == n) CHECK_MSG(!memcmp(r.out[0]->data, want, sizeof(int64_t) * 3 * (size_t)n), "%s", what);
    }
    run_free(&r);
    free_all(in, 5);
}

static void test_nms(void) {
    /* The spec's example boxes (suppress_by_IOU): expect boxes 3, 0, 5. */
    const float boxes[] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f, 0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101};
    const float scores[] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
    float zero = 0, four = 0.4f;
    nms_case("example", 1, 1, 6, boxes, scores, 3, 0.5f, &zero, false, 5);
    {
        int64_t bd[3] = {1, 6, 4}, sd[3] = {1, 1, 6}, mk = 3, one = 1;
        float iou = 0.5f;
        ot_tensor *in[5] = {tensor(OT_FLOAT, 3, bd, boxes), tensor(OT_FLOAT, 3, sd, scores), tensor(OT_INT64, 1, &one, &mk),
                            tensor(OT_FLOAT, 1, &one, &iou), tensor(OT_FLOAT, 1, &one, &zero)};
        op_run r;
        CHECK(run_op(&r, "NonMaxSuppression", 10, 5, in, 1, NULL, 0) == OT_OK);
        const int64_t want[9] = {0, 0, 3, 0, 0, 0, 0, 0, 5};
        CHECK(r.out[0]->dims[0] == 3 && !memcmp(r.out[0]->data, want, sizeof want));
        run_free(&r);
        free_all(in, 5);
    }
    nms_case("score threshold", 1, 1, 6, boxes, scores, 3, 0.5f, &four, false, 5);
    nms_case("limit 2", 1, 1, 6, boxes, scores, 2, 0.5f, &zero, false, 5);
    nms_case("no max input: nothing", 1, 1, 6, boxes, scores, 0, 0, NULL, false, 2);
    nms_case("no iou: any overlap suppresses", 1, 1, 6, boxes, scores, 6, 0, NULL, false, 3);
    nms_case("no score threshold", 1, 1, 6, boxes, scores, 6, 0.5f, NULL, false, 4);
    /* center format: the same boxes as (x_center, y_center, w, h) */
    const float cboxes[] = {0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 0.4f, 1, 1,
                            0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1};
    nms_case("center", 1, 1, 6, cboxes, scores, 3, 0.5f, &zero, true, 5);
    /* random boxes: batches and classes */
    for (int rep = 0; rep < 6; rep++) {
        int64_t B = 1 + rep % 2, K = 1 + rep % 3, S = 20 + 7 * rep;
        float bx[2 * 62 * 4], sc[2 * 3 * 62];
        for (int64_t i = 0; i < B * S; i++) {
            float x = (float)rand_unit() * 4, y = (float)rand_unit() * 4, w = 0.5f + (float)fabs(rand_unit()) * 2,
                  h = 0.5f + (float)fabs(rand_unit()) * 2;
            bool center = rep & 1;
            float *o = bx + 4 * i;
            if (center) o[0] = x, o[1] = y, o[2] = w, o[3] = h;
            else if (rep % 4 == 2) o[0] = y + h, o[1] = x + w, o[2] = y, o[3] = x; /* flipped corners */
            else o[0] = y, o[1] = x, o[2] = y + h, o[3] = x + w;
        }
        for (int64_t i = 0; i < B * K * S; i++) sc[i] = (float)fabs(rand_unit());
        float thr = 0.2f;
        char what[32];
        snprintf(what, sizeof what, "random %d", rep);
        nms_case(what, B, K, S, bx, sc, 4 + rep, 0.3f + 0.05f * (float)rep, rep % 3 ? &thr : NULL, rep & 1, 5);
    }
    /* errors */
    {
        int64_t bd[3] = {1, 6, 3}, sd[3] = {1, 1, 6};
        ot_tensor *in[2] = {tensor(OT_FLOAT, 3, bd, NULL), tensor(OT_FLOAT, 3, sd, NULL)};
        op_run r;
        CHECK(run_op(&r, "NonMaxSuppression", 11, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
        run_free(&r);
        attr_spec a[1] = {INT("center_point_box", 2)};
        CHECK(run_op(&r, "NonMaxSuppression", 11, 2, in, 1, a, 1) == OT_ERR_PARSE);
        run_free(&r);
        free_all(in, 2);
    }
}

/* ======================= RoiAlign ======================= */

typedef struct ra_case {
    int64_t N, C, H, W, R, oh, ow, sr;
    double scale;
    const char *mode, *ctm; /* NULL: default */
    int opset;
} ra_case;

/* One bilinear sample as the spec's reference computes it (float64). */
static void ref_tap(double v, int64_t size, int64_t *lo, int64_t *hi, double *l, bool *valid) {
    *valid = !(v < -1 || v > (double)size);
    if (!*valid) return;
    if (v < 0) v = 0;
    *lo = (int64_t)v;
    if (*lo >= size - 1) *lo = *hi = size - 1, v = (double)*lo;
    else *hi = *lo + 1;
    *l = v - (double)*lo;
}

static double ref_roi_bin(const ra_case *k, bool half, bool maxm, const double *x, const double *roi, int64_t ph,
                          int64_t pw) {
    double off = half ? 0.5 : 0, sw = roi[0] * k->scale - off, sh = roi[1] * k->scale - off;
    double rw = roi[2] * k->scale - off - sw, rh = roi[3] * k->scale - off - sh;
    if (!half) rw = fmax(rw, 1), rh = fmax(rh, 1);
    double bh = rh / (double)k->oh, bw = rw / (double)k->ow;
    int64_t gh = k->sr > 0 ? k->sr : (int64_t)ceil(rh / (double)k->oh), gw = k->sr > 0 ? k->sr : (int64_t)ceil(rw / (double)k->ow);
    if (gh < 0) gh = 0;
    if (gw < 0) gw = 0;
    double acc = 0;
    bool have = false;
    for (int64_t iy = 0; iy < gh; iy++)
        for (int64_t ix = 0; ix < gw; ix++) {
            double y = sh + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
            double xx = sw + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
            int64_t ylo, yhi, xlo, xhi;
            double ly, lx;
            bool vy, vx;
            ref_tap(y, k->H, &ylo, &yhi, &ly, &vy);
            ref_tap(xx, k->W, &xlo, &xhi, &lx, &vx);
            double v = 0;
            if (vy && vx) {
                double t[4] = {(1 - ly) * (1 - lx) * x[ylo * k->W + xlo], (1 - ly) * lx * x[ylo * k->W + xhi],
                               ly * (1 - lx) * x[yhi * k->W + xlo], ly * lx * x[yhi * k->W + xhi]};
                if (maxm) v = fmax(fmax(t[0], t[1]), fmax(t[2], t[3]));
                else v = t[0] + t[1] + t[2] + t[3];
            }
            if (maxm) acc = have ? fmax(acc, v) : v;
            else acc += v;
            have = true;
        }
    int64_t cnt = gh * gw > 1 ? gh * gw : 1;
    return maxm ? acc : acc / (double)cnt;
}

static void roi_case(const ra_case *k, ot_dtype dt, double tol) {
    int64_t xd[4] = {k->N, k->C, k->H, k->W}, rd[2] = {k->R, 4};
    ot_tensor *x = rand_tensor(dt, 4, xd, 1.0);
    double roi[64 * 4];
    int64_t bidx[64];
    for (int64_t r = 0; r < k->R; r++) {
        double x1 = fabs(rand_unit()) * (double)k->W / k->scale, y1 = fabs(rand_unit()) * (double)k->H / k->scale;
        double w = fabs(rand_unit()) * (double)k->W / k->scale, h = fabs(rand_unit()) * (double)k->H / k->scale;
        if (r == 1) w = -0.3, h = 0.2; /* malformed: forced to 1x1 without half_pixel */
        roi[4 * r] = x1, roi[4 * r + 1] = y1, roi[4 * r + 2] = x1 + w, roi[4 * r + 3] = y1 + h;
        bidx[r] = (int64_t)(next_u64() % (uint64_t)k->N);
    }
    ot_tensor *in[3] = {x, tf(dt, 2, rd, roi), ti64(1, &k->R, bidx)};
    /* the reference sees the rounded values */
    for (int64_t i = 0; i < 4 * k->R; i++) roi[i] = at(in[1], i);
    attr_spec a[6];
    int na = 0;
    a[na++] = (attr_spec)INT("output_height", k->oh);
    a[na++] = (attr_spec)INT("output_width", k->ow);
    a[na++] = (attr_spec)INT("sampling_ratio", k->sr);
    a[na++] = (attr_spec)FLT("spatial_scale", (float)k->scale);
    if (k->mode) a[na++] = (attr_spec)STR("mode", k->mode);
    if (k->ctm) a[na++] = (attr_spec)STR("coordinate_transformation_mode", k->ctm);
    op_run r;
    ot_status s = run_op(&r, "RoiAlign", k->opset, 3, in, 1, a, na);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    bool half = k->opset >= 16 && (!k->ctm || !strcmp(k->ctm, "half_pixel"));
    bool maxm = k->mode && !strcmp(k->mode, "max");
    if (s == OT_OK) {
        int64_t n = k->R * k->C * k->oh * k->ow, plane = k->H * k->W;
        double *want = malloc(sizeof(double) * (size_t)n), *xv = malloc(sizeof(double) * (size_t)(k->N * k->C * plane));
        for (int64_t i = 0; i < k->N * k->C * plane; i++) xv[i] = at(x, i);
        for (int64_t i = 0; i < n; i++) {
            int64_t pw = i % k->ow, ph = i / k->ow % k->oh, c = i / (k->ow * k->oh) % k->C, rr = i / (k->ow * k->oh * k->C);
            want[i] = ref_roi_bin(k, half, maxm, xv + (bidx[rr] * k->C + c) * plane, roi + 4 * rr, ph, pw);
        }
        check_all("RoiAlign", r.out[0], want, n, tol);
        free(want);
        free(xv);
    }
    run_free(&r);
    free_all(in, 3);
}

static void test_roi_align(void) {
    const ra_case cases[] = {
        {1, 1, 10, 10, 3, 5, 5, 2, 1.0, NULL, NULL, 16},
        {2, 3, 7, 9, 5, 3, 4, 0, 1.0, NULL, NULL, 22},
        {2, 3, 7, 9, 5, 3, 4, 0, 0.5, "max", "output_half_pixel", 22},
        {1, 2, 6, 5, 4, 2, 2, 3, 2.0, "max", "half_pixel", 16},
        {2, 2, 8, 8, 4, 3, 3, 0, 1.0, "avg", NULL, 10},
        {3, 4, 12, 11, 9, 7, 7, 0, 0.25, NULL, "output_half_pixel", 22},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        roi_case(&cases[i], OT_DOUBLE, 1e-12);
        roi_case(&cases[i], OT_FLOAT, 2e-5);
    }
    roi_case(&cases[1], OT_FLOAT16, 1e-2);
    roi_case(&cases[2], OT_BFLOAT16, 3e-2);
    /* opset 10 has no coordinate_transformation_mode */
    int64_t xd[4] = {1, 1, 4, 4}, rd[2] = {1, 4}, one = 1, zero = 0;
    const double roi[4] = {0, 0, 2, 2};
    ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 4, xd, 1), tf(OT_FLOAT, 2, rd, roi), ti64(1, &one, &zero)};
    attr_spec a[1] = {STR("coordinate_transformation_mode", "half_pixel")};
    op_run r;
    CHECK(run_op(&r, "RoiAlign", 10, 3, in, 1, a, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    attr_spec m[1] = {STR("mode", "median")};
    CHECK(run_op(&r, "RoiAlign", 16, 3, in, 1, m, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    ((int64_t *)in[2]->data)[0] = 1; /* batch index out of range */
    CHECK(run_op(&r, "RoiAlign", 16, 3, in, 1, NULL, 0) == OT_ERR_INVALID_ARG);
    run_free(&r);
    free_all(in, 3);
}

/* RoiAlignGrad is the forward's adjoint in avg mode: <RoiAlign(X), dY> = <X, dX>;
   in max mode each bin's gradient lands on its winner, so the same holds
   with X's values (the forward is positively homogeneous of degree 1). */
static void test_roi_align_grad(void) {
    for (int maxm = 0; maxm < 2; maxm++)
        for (int dtk = 0; dtk < 3; dtk++) {
            ot_dtype dt = dtk == 2 ? OT_FLOAT16 : dtk ? OT_FLOAT : OT_DOUBLE;
            int64_t xd[4] = {2, 3, 9, 8}, rd[2] = {6, 4}, R = 6, dyd[4] = {6, 3, 3, 2};
            double roi[24];
            int64_t bidx[6];
            for (int r = 0; r < 6; r++) {
                roi[4 * r] = fabs(rand_unit()) * 6 - 1, roi[4 * r + 1] = fabs(rand_unit()) * 6 - 1;
                roi[4 * r + 2] = roi[4 * r] + fabs(rand_unit()) * 5, roi[4 * r + 3] = roi[4 * r + 1] + fabs(rand_unit()) * 5;
                bidx[r] = r % 2;
            }
            ot_tensor *x = rand_tensor(dt, 4, xd, 1), *rois = tf(dt, 2, rd, roi), *bi = ti64(1, &R, bidx);
            ot_tensor *dy = rand_tensor(dt, 4, dyd, 1);
            attr_spec a[6] = {INT("output_height", 3), INT("output_width", 2), INT("sampling_ratio", 0),
                              FLT("spatial_scale", 1.0f), STR("mode", maxm ? "max" : "avg"),
                              attr_ints("input_shape", 4, xd)};
            ot_tensor *fin[3] = {x, rois, bi}, *gin[4] = {dy, rois, bi, x};
            op_run f, gr;
            CHECK(run_op(&f, "RoiAlign", 22, 3, fin, 1, a, 5) == OT_OK);
            ot_status s = run_dom(&gr, OT_DOMAIN_TRAIN, "RoiAlignGrad", 1, maxm ? 4 : 3, gin, 1, a, 6);
            CHECK_MSG(s == OT_OK, "%s", ot_last_error());
            if (s == OT_OK) {
                double l = dot(f.out[0], dy), r = dot(x, gr.out[0]);
                double tol = dtk == 2 ? 2e-2 : dtk ? 1e-4 : 1e-12;
                CHECK_MSG(check_close(l, r, tol, 1e-9), "max %d dtype %d: %.12g vs %.12g", maxm, dtk, l, r);
            }
            run_free(&f);
            run_free(&gr);
            ot_tensor *all[4] = {x, rois, bi, dy};
            free_all(all, 4);
        }
}

/* ======================= Col2Im ======================= */

static void ref_col2im(int n, const int64_t *img, const int64_t *blk, const int64_t *dil, const int64_t *pads,
                       const int64_t *str, int64_t NC, const double *col, double *out) {
    int64_t cols[6], K = 1, L = 1, I = 1;
    for (int d = 0; d < n; d++) {
        cols[d] = (img[d] + pads[d] + pads[n + d] - dil[d] * (blk[d] - 1) - 1) / str[d] + 1;
        K *= blk[d], L *= cols[d], I *= img[d];
    }
    memset(out, 0, sizeof(double) * (size_t)(NC * I));
    for (int64_t c = 0; c < NC; c++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t l = 0; l < L; l++) {
                int64_t kk[6], ll[6], pos = 0;
                unravel(k, n, blk, kk);
                unravel(l, n, cols, ll);
                bool ok = true;
                for (int d = 0; d < n; d++) {
                    int64_t i = ll[d] * str[d] - pads[d] + kk[d] * dil[d];
                    ok &= i >= 0 && i < img[d];
                    pos = pos * img[d] + i;
                }
                if (ok) out[c * I + pos] += col[(c * K + k) * L + l];
            }
}

static void col2im_case(ot_dtype dt, int n, const int64_t *img, const int64_t *blk, const int64_t *dil,
                        const int64_t *pads, const int64_t *str, int64_t N, int64_t C, bool attrs) {
    int64_t K = 1, L = 1, I = 1;
    for (int d = 0; d < n; d++) {
        K *= blk[d], I *= img[d];
        L *= (img[d] + pads[d] + pads[n + d] - dil[d] * (blk[d] - 1) - 1) / str[d] + 1;
    }
    int64_t xd[3] = {N, C * K, L}, nn = n;
    ot_tensor *in[3] = {rand_tensor(dt, 3, xd, 3), ti64(1, &nn, img), ti64(1, &nn, blk)};
    attr_spec a[3] = {attr_ints("dilations", n, dil), attr_ints("pads", 2 * n, pads), attr_ints("strides", n, str)};
    op_run r;
    ot_status s = run_op(&r, "Col2Im", 18, 3, in, 1, a, attrs ? 3 : 0);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        double *col = malloc(sizeof(double) * (size_t)(N * C * K * L)), *want = malloc(sizeof(double) * (size_t)(N * C * I));
        for (int64_t i = 0; i < N * C * K * L; i++) col[i] = at(in[0], i);
        ref_col2im(n, img, blk, dil, pads, str, N * C, col, want);
        if (dt == OT_INT8) /* wraps like the hardware */
            for (int64_t i = 0; i < N * C * I; i++) want[i] = (double)(int8_t)(int64_t)want[i];
        CHECK(r.out[0]->rank == n + 2 && r.out[0]->dims[1] == C);
        check_all("Col2Im", r.out[0], want, N * C * I, dt == OT_FLOAT16 ? 1e-2 : 1e-6);
        free(col);
        free(want);
    }
    run_free(&r);
    free_all(in, 3);

    /* Im2Col is its adjoint: <Col2Im(c), y> = <c, Im2Col(y)> */
    if (!ot_dtype_is_float(dt) || dt == OT_FLOAT16) return;
    int64_t yd[OT_MAX_RANK] = {N, C};
    memcpy(yd + 2, img, sizeof(int64_t) * (size_t)n);
    ot_tensor *c0 = rand_tensor(dt, 3, xd, 1), *y = rand_tensor(dt, n + 2, yd, 1);
    ot_tensor *fin[3] = {c0, ti64(1, &nn, img), ti64(1, &nn, blk)}, *gin[2] = {y, fin[2]};
    op_run f, gr;
    CHECK(run_op(&f, "Col2Im", 18, 3, fin, 1, a, attrs ? 3 : 0) == OT_OK);
    s = run_dom(&gr, OT_DOMAIN_TRAIN, "Im2Col", 1, 2, gin, 1, a, attrs ? 3 : 0);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        CHECK(ot_shape_equal(gr.out[0]->rank, gr.out[0]->dims, 3, xd));
        CHECK_CLOSE(dot(f.out[0], y), dot(c0, gr.out[0]), 1e-5, 1e-9);
    }
    run_free(&f);
    run_free(&gr);
    ot_tensor_free(y);
    free_all(fin, 3);
}

static void test_col2im(void) {
    const int64_t one[6] = {1, 1, 1, 1, 1, 1}, zero[12] = {0};
    {
        const int64_t img[2] = {5, 5}, blk[2] = {1, 5};
        col2im_case(OT_FLOAT, 2, img, blk, one, zero, one, 1, 1, false);
    }
    {
        const int64_t img[2] = {6, 7}, blk[2] = {2, 3}, dil[2] = {2, 1}, pads[4] = {1, 0, 2, 1}, str[2] = {1, 2};
        for (int dt = 0; dt < 5; dt++) {
            ot_dtype t[5] = {OT_FLOAT, OT_DOUBLE, OT_INT32, OT_FLOAT16, OT_INT8};
            col2im_case(t[dt], 2, img, blk, dil, pads, str, 2, 3, true);
        }
    }
    {
        const int64_t img[1] = {11}, blk[1] = {3}, dil[1] = {2}, pads[2] = {2, 1}, str[1] = {3};
        col2im_case(OT_DOUBLE, 1, img, blk, dil, pads, str, 2, 2, true);
    }
    {
        const int64_t img[3] = {3, 4, 5}, blk[3] = {2, 1, 3}, dil[3] = {1, 1, 2}, pads[6] = {0, 1, 0, 1, 0, 2}, str[3] = {1, 2, 1};
        col2im_case(OT_FLOAT, 3, img, blk, dil, pads, str, 1, 2, true);
        col2im_case(OT_UINT16, 3, img, blk, dil, pads, str, 1, 2, true);
    }
    /* L does not match the geometry */
    int64_t xd[3] = {1, 4, 5}, two = 2;
    const int64_t img[2] = {4, 4}, blk[2] = {2, 2};
    ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 3, xd, 1), ti64(1, &two, img), ti64(1, &two, blk)};
    op_run r;
    CHECK(run_op(&r, "Col2Im", 18, 3, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    free_all(in, 3);
}

/* ======================= DeformConv ======================= */

typedef struct dc_case {
    int n;
    int64_t N, C, M, G, OG;
    int64_t img[3], k[3], str[3], dil[3], pads[6];
    bool mask, bias;
    double off_scale;
} dc_case;

/* X sampled at coord (multilinear, zero outside). */
static double ref_sample(int n, const int64_t *img, const double *x, const double *coord) {
    double s = 0;
    for (int j = 0; j < (1 << n); j++) {
        double w = 1;
        int64_t pos = 0;
        bool ok = true;
        for (int d = 0; d < n; d++) {
            double f = floor(coord[d]);
            int64_t i = (int64_t)f + ((j >> d) & 1);
            double fr = coord[d] - f;
            w *= (j >> d) & 1 ? fr : 1 - fr;
            ok &= i >= 0 && i < img[d];
            pos = pos * img[d] + i;
        }
        if (ok) s += w * x[pos];
    }
    return s;
}

static void dc_run(const dc_case *k, ot_dtype dt, double tol, bool zero_offsets) {
    int n = k->n;
    int64_t out[3], K = 1, P = 1, I = 1;
    for (int d = 0; d < n; d++) {
        out[d] = (k->img[d] + k->pads[d] + k->pads[n + d] - k->dil[d] * (k->k[d] - 1) - 1) / k->str[d] + 1;
        K *= k->k[d], P *= out[d], I *= k->img[d];
    }
    int64_t xd[5] = {k->N, k->C}, wd[5] = {k->M, k->C / k->G}, od[5] = {k->N, k->OG * K * n}, md[5] = {k->N, k->OG * K};
    memcpy(xd + 2, k->img, sizeof(int64_t) * (size_t)n);
    memcpy(wd + 2, k->k, sizeof(int64_t) * (size_t)n);
    memcpy(od + 2, out, sizeof(int64_t) * (size_t)n);
    memcpy(md + 2, out, sizeof(int64_t) * (size_t)n);
    ot_tensor *in[5] = {rand_tensor(dt, n + 2, xd, 1), rand_tensor(dt, n + 2, wd, 1),
                        rand_tensor(dt, n + 2, od, zero_offsets ? 0 : k->off_scale), NULL, NULL};
    if (k->bias) in[3] = rand_tensor(dt, 1, &k->M, 1);
    if (k->mask) in[4] = rand_tensor(dt, n + 2, md, 1);
    attr_spec a[6] = {INT("group", k->G), INT("offset_group", k->OG), attr_ints("kernel_shape", n, k->k),
                      attr_ints("strides", n, k->str), attr_ints("dilations", n, k->dil), attr_ints("pads", 2 * n, k->pads)};
    op_run r;
    int n_in = k->mask ? 5 : k->bias ? 4 : 3;
    ot_status s = run_op(&r, "DeformConv", 22, n_in, in, 1, a, 6);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        int64_t Cg = k->C / k->G, Mg = k->M / k->G, Cog = k->C / k->OG, total = k->N * k->M * P;
        double *want = malloc(sizeof(double) * (size_t)total), *xv = malloc(sizeof(double) * (size_t)(k->N * k->C * I));
        for (int64_t i = 0; i < k->N * k->C * I; i++) xv[i] = at(in[0], i);
        for (int64_t i = 0; i < total; i++) {
            int64_t p = i % P, m = i / P % k->M, b = i / (P * k->M), g = m / Mg, o[3];
            unravel(p, n, out, o);
            double acc = k->bias ? at(in[3], m) : 0;
            for (int64_t c = g * Cg; c < (g + 1) * Cg; c++)
                for (int64_t kk = 0; kk < K; kk++) {
                    int64_t kd[3], og = c / Cog;
                    unravel(kk, n, k->k, kd);
                    double coord[3];
                    for (int d = 0; d < n; d++)
                        coord[d] = (double)(o[d] * k->str[d] - k->pads[d] + kd[d] * k->dil[d]) +
                                   at(in[2], ((b * k->OG + og) * K * n + kk * n + d) * P + p);
                    double v = ref_sample(n, k->img, xv + (b * k->C + c) * I, coord);
                    double mk = k->mask ? at(in[4], (b * k->OG * K + og * K + kk) * P + p) : 1;
                    acc += at(in[1], (m * Cg + (c - g * Cg)) * K + kk) * v * mk;
                }
            want[i] = acc;
        }
        check_all("DeformConv", r.out[0], want, total, tol);
        free(want);
        free(xv);
    }
    if (s == OT_OK && zero_offsets && !k->mask) { /* equals Conv */
        op_run cr;
        attr_spec ca[5] = {INT("group", k->G), attr_ints("kernel_shape", n, k->k), attr_ints("strides", n, k->str),
                           attr_ints("dilations", n, k->dil), attr_ints("pads", 2 * n, k->pads)};
        ot_tensor *cin[3] = {in[0], in[1], in[3]};
        CHECK(run_op(&cr, "Conv", 11, k->bias ? 3 : 2, cin, 1, ca, 5) == OT_OK);
        int64_t cnt = ot_tensor_numel(r.out[0]);
        double *want = malloc(sizeof(double) * (size_t)cnt);
        for (int64_t i = 0; i < cnt; i++) want[i] = at(cr.out[0], i);
        check_all("DeformConv = Conv", r.out[0], want, cnt, tol);
        free(want);
        run_free(&cr);
    }
    run_free(&r);
    free_all(in, 5);
}

/* DeformConvGrad in float32 (or float16) against float64 on the same values
   (the float64 one is checked against finite differences in tests/grad). */
static void dc_grad_lowp(const dc_case *k, ot_dtype dt, double tol) {
    int n = k->n;
    int64_t out[3], K = 1;
    for (int d = 0; d < n; d++) {
        out[d] = (k->img[d] + k->pads[d] + k->pads[n + d] - k->dil[d] * (k->k[d] - 1) - 1) / k->str[d] + 1;
        K *= k->k[d];
    }
    int64_t dims[6][5] = {{k->N, k->M}, {k->N, k->C}, {k->M, k->C / k->G}, {k->N, k->OG * K * n}, {0}, {k->N, k->OG * K}};
    for (int d = 0; d < n; d++) {
        dims[0][2 + d] = out[d], dims[1][2 + d] = k->img[d], dims[2][2 + d] = k->k[d];
        dims[3][2 + d] = out[d], dims[5][2 + d] = out[d];
    }
    ot_tensor *in64[6] = {0}, *in32[6] = {0};
    for (int i = 0; i < 6; i++) {
        if (i == 4) continue;
        in64[i] = rand_tensor(OT_DOUBLE, n + 2, dims[i], i == 3 ? k->off_scale : 1);
        in32[i] = tensor(dt, n + 2, dims[i], NULL);
        for (int64_t j = 0; j < ot_tensor_numel(in64[i]); j++) {
            ot_store_f64(dt, in32[i]->data, j, at(in64[i], j));
            ((double *)in64[i]->data)[j] = at(in32[i], j);
        }
    }
    attr_spec a[7] = {INT("group", k->G), INT("offset_group", k->OG), attr_ints("strides", n, k->str),
                      attr_ints("dilations", n, k->dil), attr_ints("pads", 2 * n, k->pads), INTS("wrt", 0, 1, 2, 3, 4)};
    op_run r64, r32;
    ot_status s1 = run_dom(&r64, OT_DOMAIN_TRAIN, "DeformConvGrad", 1, 6, in64, 5, a, 6);
    CHECK_MSG(s1 == OT_OK, "%s", ot_last_error());
    ot_status s2 = run_dom(&r32, OT_DOMAIN_TRAIN, "DeformConvGrad", 1, 6, in32, 5, a, 6);
    CHECK_MSG(s2 == OT_OK, "%s", ot_last_error());
    if (s1 == OT_OK && s2 == OT_OK)
        for (int o = 0; o < 5; o++) {
            int64_t cnt = ot_tensor_numel(r64.out[o]);
            double *want = malloc(sizeof(double) * (size_t)cnt);
            for (int64_t j = 0; j < cnt; j++) want[j] = at(r64.out[o], j);
            check_all("DeformConvGrad low precision", r32.out[o], want, cnt, tol);
            free(want);
        }
    run_free(&r64);
    run_free(&r32);
    free_all(in64, 6);
    free_all(in32, 6);
}

static void test_deform_conv(void) {
    const dc_case cases[] = {
        {2, 1, 1, 1, 1, 1, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}, false, false, 1.0},
        {2, 2, 4, 6, 2, 2, {7, 6}, {3, 2}, {2, 1}, {1, 2}, {1, 0, 2, 1}, true, true, 2.0},
        {2, 1, 6, 4, 1, 3, {9, 10}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, false, 3.0},
        {1, 2, 4, 2, 2, 2, {11}, {3}, {2}, {2}, {2, 1}, true, true, 2.5},
        {3, 1, 2, 3, 1, 2, {4, 5, 3}, {2, 2, 2}, {1, 2, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 1}, true, true, 1.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dc_run(&cases[i], OT_DOUBLE, 1e-10, false);
        dc_run(&cases[i], OT_FLOAT, 2e-4, false);
        dc_run(&cases[i], OT_DOUBLE, 1e-10, true);
        dc_grad_lowp(&cases[i], OT_FLOAT, 2e-3);
    }
    dc_run(&cases[1], OT_FLOAT16, 5e-2, false);
    dc_grad_lowp(&cases[1], OT_FLOAT16, 1e-1);
    /* a larger float32 case, past the kernels' threading thresholds */
    const dc_case big = {2, 2, 16, 32, 2, 4, {24, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, true, 2.0};
    dc_run(&big, OT_FLOAT, 5e-4, false);
    dc_grad_lowp(&big, OT_FLOAT, 2e-3);
    /* errors: offset of the wrong shape; offset_group not dividing C */
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {2, 3, 3, 3}, od[4] = {1, 18, 2, 3};
    ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 4, xd, 1), rand_tensor(OT_FLOAT, 4, wd, 1), rand_tensor(OT_FLOAT, 4, od, 1)};
    op_run r;
    CHECK(run_op(&r, "DeformConv", 19, 3, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    attr_spec a[1] = {INT("offset_group", 2)};
    CHECK(run_op(&r, "DeformConv", 19, 3, in, 1, a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    free_all(in, 3);
}

int main(void) {
    test_nms();
    test_roi_align();
    test_roi_align_grad();
    test_col2im();
    test_deform_conv();
    return check_done();
}
