/* Unit tests of the signal family: DFT (every mode: forward, inverse,
 * one-sided forward (RFFT) and inverse (IRFFT), real and complex inputs,
 * dft_length padding and truncation, every axis, opset 17 attribute and 20
 * input forms; lengths covering the radix-2, direct and Bluestein paths and
 * the real-pair trick with an odd item count) against a naive O(n^2) sum;
 * STFT against naive framing; the windows against their formulas; the mel
 * matrix against values from the ONNX reference; the error messages; and
 * the adjoint identity <y(x), dy> == <x, DFTGrad / STFTGrad(dy)> of the grad
 * ops, including a large float32 STFTGrad with a window gradient. */
#include <math.h>

#include "check.h"
#include "op_harness.h"

#define PI 3.14159265358979323846

/* ---- running an ai.onnxtrain op ------------------------------------------------------ */

static ot_status run_train_op(op_run *r, const char *op, int n_in, ot_tensor **in, int n_out, const attr_spec *attrs,
                              int n_attrs) {
    run_opts o = {.domain = "ai.onnxtrain"};
    return run_op_x(r, op, 1, n_in, in, n_out, attrs, n_attrs, &o);
}

static ot_tensor *scalar_i64(int64_t v) { return tensor(OT_INT64, 0, NULL, &v); }

/* ---- naive DFT --------------------------------------------------------------------- */

/* out[k] = scale * sum_t in[t] e^{sign 2 pi i k t / n}, complex interleaved,
   with a table of the n exact twiddles (angles reduced as k t mod n). */
static void naive_dft(const double *in, int64_t n, int sign, double scale, double *out) {
    double *tw = malloc(sizeof(double) * 2 * (size_t)n);
    for (int64_t k = 0; k < n; k++) {
        tw[2 * k] = cos(2 * PI * (double)k / (double)n);
        tw[2 * k + 1] = sign * sin(2 * PI * (double)k / (double)n);
    }
    for (int64_t k = 0; k < n; k++) {
        double re = 0, im = 0;
        for (int64_t t = 0; t < n; t++) {
            const double *w = tw + 2 * ((k * t) % n);
            re += in[2 * t] * w[0] - in[2 * t + 1] * w[1];
            im += in[2 * t] * w[1] + in[2 * t + 1] * w[0];
        }
        out[2 * k] = re * scale;
        out[2 * k + 1] = im * scale;
    }
    free(tw);
}

typedef struct dft_case {
    int rank;
    int64_t dims[5];
    int axis;       /* normalised */
    int64_t n;      /* dft_length input, 0: absent */
    int inverse, onesided;
    int opset;      /* 17: axis attribute, 20: axis input */
    int axis_given; /* pass the axis (as given_axis) rather than rely on the default */
    int64_t given_axis;
    ot_dtype dt;
} dft_case;

/* The expected output of DFT, from the naive sum, into want (of the output's shape). */
static void dft_reference(const dft_case *c, const ot_tensor *x, int64_t n, const int64_t *ydims, double *want) {
    int r = c->rank, ax = c->axis;
    int64_t outer = 1, inner = 1, m = c->dims[ax], C = c->dims[r - 1], Cy = ydims[r - 1], Ly = ydims[ax];
    for (int d = 0; d < ax; d++) outer *= c->dims[d];
    for (int d = ax + 1; d < r - 1; d++) inner *= c->dims[d];
    double *z = calloc((size_t)(2 * n), sizeof(double)), *Z = calloc((size_t)(2 * n), sizeof(double));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            memset(z, 0, sizeof(double) * 2 * (size_t)n);
            bool irfft = c->inverse && c->onesided;
            int64_t use = irfft ? (m < n / 2 + 1 ? m : n / 2 + 1) : (m < n ? m : n);
            for (int64_t t = 0; t < use; t++) {
                int64_t p = ((o * m + t) * inner + i) * C;
                z[2 * t] = at(x, p);
                z[2 * t + 1] = C == 2 ? at(x, p + 1) : 0;
            }
            if (irfft) { /* the full Hermitian spectrum; Im of DC and Nyquist ignored */
                z[1] = 0;
                if (n % 2 == 0 && use > n / 2) z[n + 1] = 0;
                for (int64_t k = 1; k < use && n - k > k; k++) {
                    z[2 * (n - k)] = z[2 * k];
                    z[2 * (n - k) + 1] = -z[2 * k + 1];
                }
            }
            naive_dft(z, n, c->inverse ? 1 : -1, c->inverse ? 1.0 / (double)n : 1.0, Z);
            for (int64_t k = 0; k < Ly; k++) {
                int64_t p = ((o * Ly + k) * inner + i) * Cy;
                want[p] = Z[2 * k];
                if (Cy == 2) want[p + 1] = Z[2 * k + 1];
            }
        }
    free(z);
    free(Z);
}

static int64_t default_n(const dft_case *c) {
    int64_t m = c->dims[c->axis];
    return c->n ? c->n : (c->inverse && c->onesided ? 2 * (m - 1) : m);
}

static void run_dft_case(const dft_case *c) {
    ot_tensor *x = rand_tensor(c->dt, c->rank, c->dims, 1.0);
    ot_tensor *len = c->n ? scalar_i64(c->n) : NULL, *axis = NULL;
    attr_spec as[3];
    int na = 0;
    as[na++] = (attr_spec)INT("inverse", c->inverse);
    as[na++] = (attr_spec)INT("onesided", c->onesided);
    if (c->axis_given && c->opset < 20) as[na++] = (attr_spec)INT("axis", c->given_axis);
    if (c->axis_given && c->opset >= 20) axis = scalar_i64(c->given_axis);
    ot_tensor *in[3] = {x, len, axis};
    op_run r;
    ot_status s = run_op(&r, "DFT", c->opset, axis ? 3 : 2, in, 1, as, na);
    CHECK_MSG(s == OT_OK, "DFT: %s", ot_last_error());
    if (s == OT_OK) {
        int64_t n = default_n(c), ydims[5];
        memcpy(ydims, c->dims, sizeof ydims);
        ydims[c->axis] = !c->inverse && c->onesided ? n / 2 + 1 : n;
        ydims[c->rank - 1] = c->inverse && c->onesided ? 1 : 2;
        const ot_tensor *y = r.out[0];
        CHECK(ot_shape_equal(y->rank, y->dims, c->rank, ydims));
        int64_t cnt = ot_tensor_numel(y);
        double *want = calloc((size_t)cnt, sizeof(double));
        dft_reference(c, x, n, ydims, want);
        /* float32 inputs are exact in double: only the output rounding differs */
        double tol = c->dt == OT_DOUBLE ? 1e-10 : c->dt == OT_FLOAT ? 2e-5 : 2e-2;
        double mag = 0;
        for (int64_t i = 0; i < cnt; i++) mag = fmax(mag, fabs(want[i]));
        char what[96];
        snprintf(what, sizeof what, "DFT n=%lld inv=%d one=%d axis=%d", (long long)n, c->inverse, c->onesided, c->axis);
        int bad = 0;
        for (int64_t i = 0; i < cnt; i++)
            if (fabs(at(y, i) - want[i]) > tol * (1 + mag) && bad++ < 3)
                CHECK_MSG(0, "%s: [%lld] = %.9g, want %.9g", what, (long long)i, at(y, i), want[i]);
        if (!bad) CHECK(1);
        free(want);
    }
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(len);
    ot_tensor_free(axis);
}

static void test_dft_modes(void) {
    const int64_t lens[] = {1, 2, 3, 5, 8, 10, 12, 16, 31, 33, 64, 100, 97};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int64_t L = lens[li];
        for (int mode = 0; mode < 4; mode++) {
            int inverse = mode >> 1, onesided = mode & 1;
            for (int C = 1; C <= 2; C++) {
                if (inverse && onesided && L < 2) continue; /* default n = 0 */
                dft_case c = {.rank = 3, .dims = {3, L, C}, .axis = 1, .inverse = inverse, .onesided = onesided,
                              .opset = 17, .dt = OT_DOUBLE};
                run_dft_case(&c);
            }
        }
    }
}

static void test_dft_lengths_axes(void) {
    /* dft_length padding and truncation, including IRFFT with fewer / more bins than n/2+1 */
    const int64_t ns[] = {4, 7, 9, 16, 40};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int mode = 0; mode < 4; mode++)
            for (int C = 1; C <= 2; C++) {
                dft_case c = {.rank = 4, .dims = {2, 6, 3, C}, .axis = 1, .n = ns[k], .inverse = mode >> 1,
                              .onesided = mode & 1, .opset = 20, .axis_given = 1, .given_axis = 1, .dt = OT_DOUBLE};
                run_dft_case(&c);
            }
    /* every axis, positive and negative, both opset forms; inner > 1 strides */
    for (int opset = 17; opset <= 20; opset += 3)
        for (int ax = 0; ax < 3; ax++)
            for (int neg = 0; neg < 2; neg++) {
                dft_case c = {.rank = 4, .dims = {3, 5, 4, 2}, .axis = ax, .opset = opset, .axis_given = 1,
                              .given_axis = neg ? ax - 4 : ax, .dt = OT_DOUBLE};
                run_dft_case(&c);
                c.onesided = 1;
                c.dims[3] = 1;
                run_dft_case(&c);
            }
    /* the defaults: axis 1 at opset 17, -2 (the last signal axis) at 20 */
    dft_case d17 = {.rank = 4, .dims = {2, 5, 3, 1}, .axis = 1, .opset = 17, .dt = OT_DOUBLE};
    run_dft_case(&d17);
    dft_case d20 = {.rank = 4, .dims = {2, 5, 3, 1}, .axis = 2, .opset = 20, .dt = OT_DOUBLE};
    run_dft_case(&d20);
    /* float32, float16, bfloat16 */
    dft_case f = {.rank = 3, .dims = {5, 48, 1}, .axis = 1, .onesided = 1, .opset = 17, .dt = OT_FLOAT};
    run_dft_case(&f);
    f.dims[2] = 2;
    f.onesided = 0;
    f.inverse = 1;
    run_dft_case(&f);
    f.dt = OT_FLOAT16;
    run_dft_case(&f);
    f.dt = OT_BFLOAT16;
    f.inverse = 0;
    run_dft_case(&f);
    /* a large batch of float32 transforms (the threaded path), Bluestein length */
    dft_case big = {.rank = 3, .dims = {41, 300, 1}, .axis = 1, .onesided = 1, .opset = 17, .dt = OT_FLOAT};
    run_dft_case(&big);
    big.dims[1] = 512;
    big.inverse = 1;
    big.dims[2] = 2;
    run_dft_case(&big);
}

/* DFT round trip: IRFFT(RFFT(x)) == x for even and odd n. */
static void test_dft_round_trip(void) {
    for (int64_t n = 5; n <= 6; n++) {
        int64_t dims[3] = {2, n, 1};
        ot_tensor *x = rand_tensor(OT_DOUBLE, 3, dims, 1.0), *len = scalar_i64(n);
        ot_tensor *in1[2] = {x, NULL};
        op_run r1, r2;
        attr_spec a1[1] = {INT("onesided", 1)}, a2[2] = {INT("onesided", 1), INT("inverse", 1)};
        CHECK(run_op(&r1, "DFT", 17, 2, in1, 1, a1, 1) == OT_OK);
        ot_tensor *in2[2] = {r1.out[0], len};
        CHECK(run_op(&r2, "DFT", 17, 2, in2, 1, a2, 2) == OT_OK);
        CHECK(ot_shape_equal(r2.out[0]->rank, r2.out[0]->dims, 3, dims));
        double want[12];
        for (int64_t i = 0; i < 2 * n; i++) want[i] = at(x, i);
        check_all("irfft(rfft(x))", r2.out[0], want, 2 * n, 1e-12);
        run_free(&r1);
        run_free(&r2);
        ot_tensor_free(x);
        ot_tensor_free(len);
    }
}

static void expect_error(const char *what, ot_status s, ot_status code, const char *needle) {
    CHECK_MSG(s == code && strstr(ot_last_error(), needle), "%s: status %d, message '%s'", what, (int)s, ot_last_error());
}

static void test_dft_errors(void) {
    int64_t dims[3] = {2, 8, 1}, bad[3] = {2, 8, 3};
    ot_tensor *x = rand_tensor(OT_FLOAT, 3, dims, 1.0), *xb = rand_tensor(OT_FLOAT, 3, bad, 1.0);
    ot_tensor *zero = scalar_i64(0), *ax2 = scalar_i64(2), *axm1 = scalar_i64(-1);
    op_run r;
    ot_tensor *in_b[1] = {xb};
    expect_error("last dim 3", run_op(&r, "DFT", 20, 1, in_b, 1, NULL, 0), OT_ERR_SHAPE, "1 (real) or 2 (complex)");
    run_free(&r);
    ot_tensor *in_len0[2] = {x, zero};
    expect_error("dft_length 0", run_op(&r, "DFT", 17, 2, in_len0, 1, NULL, 0), OT_ERR_INVALID_ARG, "dft_length");
    run_free(&r);
    ot_tensor *in_ax2[3] = {x, NULL, ax2}, *in_axm1[3] = {x, NULL, axm1};
    expect_error("axis = rank - 1", run_op(&r, "DFT", 20, 3, in_ax2, 1, NULL, 0), OT_ERR_INVALID_ARG, "axis 2");
    run_free(&r);
    expect_error("axis = -1", run_op(&r, "DFT", 20, 3, in_axm1, 1, NULL, 0), OT_ERR_INVALID_ARG, "axis -1");
    run_free(&r);
    attr_spec a[1] = {INT("axis", 1)};
    ot_tensor *in1[1] = {x};
    expect_error("axis attribute at 20", run_op(&r, "DFT", 20, 1, in1, 1, a, 1), OT_ERR_INVALID_ARG, "opset 20");
    run_free(&r);
    ot_tensor *in_ax17[3] = {x, NULL, ax2};
    expect_error("axis input at 17", run_op(&r, "DFT", 17, 3, in_ax17, 1, NULL, 0), OT_ERR_INVALID_ARG, "opset 20");
    run_free(&r);
    attr_spec os[1] = {INT("onesided", 2)};
    expect_error("onesided 2", run_op(&r, "DFT", 17, 1, in1, 1, os, 1), OT_ERR_INVALID_ARG, "0 or 1");
    run_free(&r);
    int64_t one[3] = {2, 1, 2};
    ot_tensor *x1 = rand_tensor(OT_FLOAT, 3, one, 1.0), *in_x1[1] = {x1};
    attr_spec irf[2] = {INT("onesided", 1), INT("inverse", 1)};
    expect_error("irfft of one bin", run_op(&r, "DFT", 17, 1, in_x1, 1, irf, 2), OT_ERR_INVALID_ARG, "pass dft_length");
    run_free(&r);
    int64_t idims[3] = {2, 8, 1};
    ot_tensor *xi = rand_tensor(OT_INT32, 3, idims, 1.0), *in_i[1] = {xi};
    expect_error("int input", run_op(&r, "DFT", 17, 1, in_i, 1, NULL, 0), OT_ERR_UNSUPPORTED, "int32");
    run_free(&r);
    /* a dft_length whose value is not known: infer asks for it */
    ot_tensor *unknown;
    ot_tensor_new_desc(OT_INT64, 0, NULL, &unknown);
    ot_tensor *in_u[2] = {x, unknown};
    CHECK(run_op(&r, "DFT", 17, 2, in_u, 1, NULL, 0) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(unknown);
    ot_tensor_free(xi);
    ot_tensor_free(x1);
    ot_tensor_free(x);
    ot_tensor_free(xb);
    ot_tensor_free(zero);
    ot_tensor_free(ax2);
    ot_tensor_free(axm1);
}

/* ---- STFT ---------------------------------------------------------------------------- */

typedef struct stft_case {
    int64_t B, L, C, step, n;
    int window, pass_len, onesided;
    ot_dtype dt;
} stft_case;

static void run_stft_case(const stft_case *c) {
    int64_t dims[3] = {c->B, c->L, c->C}, wd[1] = {c->n};
    ot_tensor *x = rand_tensor(c->dt, 3, dims, 1.0), *w = c->window ? rand_tensor(c->dt, 1, wd, 1.0) : NULL;
    ot_tensor *step = scalar_i64(c->step), *len = c->pass_len ? scalar_i64(c->n) : NULL;
    ot_tensor *in[4] = {x, step, w, len};
    attr_spec a[1] = {INT("onesided", c->onesided)};
    op_run r;
    ot_status s = run_op(&r, "STFT", 17, 4, in, 1, a, 1);
    CHECK_MSG(s == OT_OK, "STFT: %s", ot_last_error());
    if (s == OT_OK) {
        int64_t F = 1 + (c->L - c->n) / c->step, bins = c->onesided ? c->n / 2 + 1 : c->n;
        int64_t ydims[4] = {c->B, F, bins, 2};
        CHECK(ot_shape_equal(r.out[0]->rank, r.out[0]->dims, 4, ydims));
        double *z = calloc((size_t)(2 * c->n), sizeof(double)), *Z = calloc((size_t)(2 * c->n), sizeof(double));
        double *want = calloc((size_t)(c->B * F * bins * 2), sizeof(double));
        for (int64_t b = 0; b < c->B; b++)
            for (int64_t f = 0; f < F; f++) {
                for (int64_t j = 0; j < c->n; j++) {
                    double wj = w ? at(w, j) : 1;
                    int64_t p = (b * c->L + f * c->step + j) * c->C;
                    z[2 * j] = wj * at(x, p);
                    z[2 * j + 1] = c->C == 2 ? wj * at(x, p + 1) : 0;
                }
                naive_dft(z, c->n, -1, 1, Z);
                memcpy(want + (b * F + f) * bins * 2, Z, sizeof(double) * 2 * (size_t)bins);
            }
        check_all("STFT", r.out[0], want, c->B * F * bins * 2, c->dt == OT_DOUBLE ? 1e-10 : 1e-4);
        free(z);
        free(Z);
        free(want);
    }
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(w);
    ot_tensor_free(step);
    ot_tensor_free(len);
}

static void test_stft(void) {
    const stft_case cases[] = {
        {1, 128, 1, 8, 16, 0, 1, 1, OT_DOUBLE}, /* the node test's shape */
        {1, 128, 1, 8, 16, 1, 0, 1, OT_DOUBLE},
        {3, 50, 1, 7, 12, 1, 1, 1, OT_DOUBLE},  /* odd item count for the real pairs */
        {2, 50, 2, 5, 12, 1, 0, 0, OT_DOUBLE},  /* complex, two-sided */
        {2, 41, 2, 3, 9, 0, 1, 1, OT_DOUBLE},   /* complex one-sided: the first bins */
        {2, 40, 1, 40, 40, 0, 0, 0, OT_DOUBLE}, /* defaults: one frame of the whole signal */
        {2, 100, 1, 20, 7, 1, 1, 0, OT_DOUBLE}, /* gaps between frames */
        {2, 1000, 1, 160, 400, 1, 1, 1, OT_FLOAT}, /* Whisper-like: Bluestein n = 400 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_stft_case(&cases[i]);
}

static void test_stft_errors(void) {
    int64_t dims[3] = {1, 20, 1}, wd[1] = {8};
    ot_tensor *x = rand_tensor(OT_FLOAT, 3, dims, 1.0), *w = rand_tensor(OT_FLOAT, 1, wd, 1.0);
    ot_tensor *wdbl = rand_tensor(OT_DOUBLE, 1, wd, 1.0);
    ot_tensor *step = scalar_i64(4), *len6 = scalar_i64(6), *len30 = scalar_i64(30), *step0 = scalar_i64(0);
    op_run r;
    ot_tensor *mismatch[4] = {x, step, w, len6};
    expect_error("window vs frame_length", run_op(&r, "STFT", 17, 4, mismatch, 1, NULL, 0), OT_ERR_INVALID_ARG,
                 "differs from the window");
    run_free(&r);
    ot_tensor *longf[4] = {x, step, NULL, len30};
    expect_error("frame longer than signal", run_op(&r, "STFT", 17, 4, longf, 1, NULL, 0), OT_ERR_SHAPE, "fewer than one frame");
    run_free(&r);
    ot_tensor *zstep[2] = {x, step0};
    expect_error("frame_step 0", run_op(&r, "STFT", 17, 2, zstep, 1, NULL, 0), OT_ERR_INVALID_ARG, "frame_step");
    run_free(&r);
    ot_tensor *wtype[3] = {x, step, wdbl};
    expect_error("window type", run_op(&r, "STFT", 17, 3, wtype, 1, NULL, 0), OT_ERR_TYPE, "window");
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(w);
    ot_tensor_free(wdbl);
    ot_tensor_free(step);
    ot_tensor_free(len6);
    ot_tensor_free(len30);
    ot_tensor_free(step0);
}

/* ---- windows and mel ------------------------------------------------------------------ */

static void test_windows(void) {
    const char *ops[3] = {"HannWindow", "HammingWindow", "BlackmanWindow"};
    for (int k = 0; k < 3; k++)
        for (int periodic = 0; periodic < 2; periodic++)
            for (int64_t size = 0; size <= 10; size += 1) {
                ot_tensor *sz = tensor(OT_INT32, 0, NULL, &(int32_t){(int32_t)size}), *in[1] = {sz};
                attr_spec a[2] = {INT("periodic", periodic), INT("output_datatype", OT_DOUBLE)};
                op_run r;
                CHECK(run_op(&r, ops[k], 17, 1, in, 1, a, 2) == OT_OK);
                CHECK(r.out[0]->dtype == OT_DOUBLE && r.out[0]->rank == 1 && r.out[0]->dims[0] == size);
                double want[10];
                double N = periodic ? (double)size : (double)size - 1;
                for (int64_t i = 0; i < size; i++) {
                    double x = 2 * PI * (double)i / N;
                    want[i] = N == 0 ? 1
                            : k == 0 ? sin(PI * (double)i / N) * sin(PI * (double)i / N)
                            : k == 1 ? 0.54347826086956519 - 0.45652173913043481 * cos(x)
                                     : 0.42 - 0.5 * cos(x) + 0.08 * cos(2 * x);
                }
                check_all(ops[k], r.out[0], want, size, 1e-12);
                run_free(&r);
                ot_tensor_free(sz);
            }
    /* default output float32; integer output types truncate */
    ot_tensor *sz = scalar_i64(4), *in[1] = {sz};
    op_run r;
    CHECK(run_op(&r, "HannWindow", 17, 1, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dtype == OT_FLOAT);
    double want[4] = {0, 0.5, 1, 0.5};
    check_all("hann float", r.out[0], want, 4, 1e-7);
    run_free(&r);
    attr_spec ai[1] = {INT("output_datatype", OT_INT64)};
    CHECK(run_op(&r, "HannWindow", 17, 1, in, 1, ai, 1) == OT_OK);
    double wanti[4] = {0, 0, 1, 0};
    CHECK(r.out[0]->dtype == OT_INT64);
    check_all("hann int64", r.out[0], wanti, 4, 0);
    run_free(&r);
    attr_spec bad[1] = {INT("output_datatype", OT_STRING)};
    expect_error("string window", run_op(&r, "HannWindow", 17, 1, in, 1, bad, 1), OT_ERR_UNSUPPORTED, "output_datatype");
    run_free(&r);
    ot_tensor_free(sz);
}

static void test_mel(void) {
    /* (4, 64, 16000, 20 Hz, 7000 Hz) from onnx.reference's MelWeightMatrix */
    static const struct { int r, c; double v; } nz[] = {
        {1, 0, 1}, {2, 0, 0.5}, {2, 1, 0.5}, {3, 1, 1}, {4, 1, 0.666666687}, {4, 2, 0.333333343},
        {5, 1, 0.333333343}, {5, 2, 0.666666687}, {6, 2, 1}, {7, 2, 0.800000012}, {7, 3, 0.200000003},
        {8, 2, 0.600000024}, {8, 3, 0.400000006}, {9, 2, 0.400000006}, {9, 3, 0.600000024}, {10, 2, 0.200000003},
        {10, 3, 0.800000012}, {11, 3, 1}, {12, 3, 0.857142866}, {13, 3, 0.714285731}, {14, 3, 0.571428597},
        {15, 3, 0.428571433}, {16, 3, 0.285714298}, {17, 3, 0.142857149}};
    ot_tensor *mb = scalar_i64(4), *dl = scalar_i64(64), *sr = scalar_i64(16000);
    ot_tensor *lo = tensor(OT_FLOAT, 0, NULL, &(float){20.0f}), *hi = tensor(OT_FLOAT, 0, NULL, &(float){7000.0f});
    ot_tensor *in[5] = {mb, dl, sr, lo, hi};
    op_run r;
    CHECK(run_op(&r, "MelWeightMatrix", 17, 5, in, 1, NULL, 0) == OT_OK);
    int64_t want_dims[2] = {33, 4};
    CHECK(ot_shape_equal(r.out[0]->rank, r.out[0]->dims, 2, want_dims) && r.out[0]->dtype == OT_FLOAT);
    double want[33 * 4] = {0};
    for (size_t i = 0; i < sizeof nz / sizeof nz[0]; i++) want[nz[i].r * 4 + nz[i].c] = nz[i].v;
    check_all("mel", r.out[0], want, 33 * 4, 1e-7);
    run_free(&r);
    /* an upper edge above Nyquist reaches bins outside the matrix */
    ot_tensor *hi2 = tensor(OT_FLOAT, 0, NULL, &(float){15000.0f}), *in2[5] = {mb, dl, sr, lo, hi2};
    expect_error("mel above nyquist", run_op(&r, "MelWeightMatrix", 17, 5, in2, 1, NULL, 0), OT_ERR_INVALID_ARG,
                 "outside [0, 33)");
    run_free(&r);
    ot_tensor_free(mb);
    ot_tensor_free(dl);
    ot_tensor_free(sr);
    ot_tensor_free(lo);
    ot_tensor_free(hi);
    ot_tensor_free(hi2);
}

/* ---- adjoints ------------------------------------------------------------------------ */

static double dot(const ot_tensor *a, const ot_tensor *b) {
    double s = 0;
    for (int64_t i = 0; i < ot_tensor_numel(a); i++) s += at(a, i) * at(b, i);
    return s;
}

/* sum |a_i b_i|: the scale of a dot product's rounding error */
static double dot_abs(const ot_tensor *a, const ot_tensor *b) {
    double s = 0;
    for (int64_t i = 0; i < ot_tensor_numel(a); i++) s += fabs(at(a, i) * at(b, i));
    return s;
}

/* <DFT(x), dy> == <x, DFTGrad(dy)> for the forward's every mode. */
static void test_dft_adjoint(void) {
    const int64_t ns[] = {0, 6, 7, 13, 40};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int mode = 0; mode < 4; mode++)
            for (int C = 1; C <= 2; C++) {
                int64_t dims[4] = {3, 6, 3, C}; /* 9 items: a pair-less last one */
                ot_tensor *x = rand_tensor(OT_DOUBLE, 4, dims, 1.0), *len = ns[k] ? scalar_i64(ns[k]) : NULL;
                attr_spec a[3] = {INT("inverse", mode >> 1), INT("onesided", mode & 1), INT("axis", 1)};
                ot_tensor *in[2] = {x, len};
                op_run f, g;
                CHECK(run_op(&f, "DFT", 17, 2, in, 1, a, 3) == OT_OK);
                ot_tensor *dy = rand_tensor(OT_DOUBLE, 4, f.out[0]->dims, 1.0), *gin[2] = {dy, len};
                attr_spec ga[4] = {attr_ints("shape", 4, dims), INT("axis", 1), INT("inverse", mode >> 1),
                                   INT("onesided", mode & 1)};
                ot_status s = run_train_op(&g, "DFTGrad", 2, gin, 1, ga, 4);
                CHECK_MSG(s == OT_OK, "DFTGrad: %s", ot_last_error());
                if (s == OT_OK) {
                    double l = dot(f.out[0], dy), rr = dot(x, g.out[0]);
                    CHECK_MSG(fabs(l - rr) <= 1e-10 * (1 + fabs(l)), "adjoint n=%lld mode %d C %d: %.12g vs %.12g",
                              (long long)ns[k], mode, C, l, rr);
                }
                run_free(&f);
                run_free(&g);
                ot_tensor_free(x);
                ot_tensor_free(dy);
                ot_tensor_free(len);
            }
}

/* <STFT(x, w), dy> == <x, dx> and == <w, dw> (linear in each), float64; and
   a large float32 case (threaded FFTs, many overlapping frames, chunks)
   against the float64 result. */
static void test_stft_adjoint(void) {
    const stft_case cases[] = {{2, 50, 1, 5, 12, 1, 0, 1, OT_DOUBLE}, {2, 41, 2, 3, 9, 1, 1, 0, OT_DOUBLE},
                               {1, 30, 1, 40, 30, 1, 0, 1, OT_DOUBLE}, {3, 64, 2, 16, 33, 1, 1, 1, OT_DOUBLE},
                               {2, 100, 1, 20, 7, 1, 0, 0, OT_DOUBLE}, {1, 8000, 1, 3, 400, 1, 1, 1, OT_FLOAT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const stft_case *c = &cases[i];
        int64_t dims[3] = {c->B, c->L, c->C}, wd[1] = {c->n};
        ot_tensor *x = rand_tensor(c->dt, 3, dims, 1.0), *w = rand_tensor(c->dt, 1, wd, 1.0);
        ot_tensor *step = scalar_i64(c->step), *len = c->pass_len ? scalar_i64(c->n) : NULL;
        ot_tensor *in[4] = {x, step, w, len};
        attr_spec a[1] = {INT("onesided", c->onesided)};
        op_run f, g;
        CHECK(run_op(&f, "STFT", 17, 4, in, 1, a, 1) == OT_OK);
        ot_tensor *dy = rand_tensor(c->dt, 4, f.out[0]->dims, 1.0), *gin[5] = {dy, step, w, len, x};
        attr_spec ga[2] = {attr_ints("shape", 3, dims), INT("onesided", c->onesided)};
        ot_status s = run_train_op(&g, "STFTGrad", 5, gin, 2, ga, 2);
        CHECK_MSG(s == OT_OK, "STFTGrad: %s", ot_last_error());
        if (s == OT_OK) {
            double l = dot(f.out[0], dy), lx = dot(x, g.out[0]), lw = dot(w, g.out[1]);
            double tol = (c->dt == OT_DOUBLE ? 1e-12 : 1e-5) * (1 + dot_abs(f.out[0], dy));
            CHECK_MSG(fabs(l - lx) <= tol, "STFT adjoint (x) case %zu: %.12g vs %.12g", i, l, lx);
            CHECK_MSG(fabs(l - lw) <= tol, "STFT adjoint (w) case %zu: %.12g vs %.12g", i, l, lw);
        }
        run_free(&f);
        run_free(&g);
        ot_tensor_free(x);
        ot_tensor_free(w);
        ot_tensor_free(dy);
        ot_tensor_free(step);
        ot_tensor_free(len);
    }
}

int main(void) {
    test_dft_modes();
    test_dft_lengths_axes();
    test_dft_round_trip();
    test_dft_errors();
    test_stft();
    test_stft_errors();
    test_windows();
    test_mel();
    test_dft_adjoint();
    test_stft_adjoint();
    return check_done();
}
