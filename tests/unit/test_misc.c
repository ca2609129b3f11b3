/* Misc family: CumProd, SpaceToDepth / DepthToSpace, ReverseSequence, LRN,
   Det, Swish, EyeLike, Binarizer, BitCast, RandomUniformLike, Bernoulli,
   TensorScatter, CenterCropPad, Unique and the grad ops (CumProdGrad,
   LRNGrad, DetGrad, SwishGrad) against naive index-by-index references and
   hand-computed values. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/misc.h"
#include "op_harness.h"

/* A tensor of dtype t from doubles (NULL: 0, 1, 2, ...). */
static ot_tensor *tf(ot_dtype t, int rank, const int64_t *dims, const double *v) {
    ot_tensor *x;
    ot_tensor_new(t, rank, dims, &x);
    for (int64_t i = 0; i < ot_tensor_numel(x); i++) ot_store_f64(t, x->data, i, v ? v[i] : (double)i);
    return x;
}
static ot_tensor *ti64(int rank, const int64_t *dims, const int64_t *v) {
    ot_tensor *x;
    ot_tensor_new(OT_INT64, rank, dims, &x);
    memcpy(x->data, v, sizeof(int64_t) * (size_t)ot_tensor_numel(x));
    return x;
}
static ot_tensor *scalar_i64(int64_t v) { return ti64(0, NULL, &v); }
static int dims_are(const ot_tensor *t, int rank, const int64_t *dims) { return ot_shape_equal(t->rank, t->dims, rank, dims); }

/* run_op for an op of any domain. */
static ot_status run_dom(op_run *r, const char *domain, const char *op, int64_t opset, int n_in, ot_tensor **in,
                         int n_out, const attr_spec *attrs, int n_attrs) {
    run_opts o = {.domain = domain};
    return run_op_x(r, op, opset, n_in, in, n_out, attrs, n_attrs, &o);
}

/* ---- CumProd ---------------------------------------------------------------------------- */

static void cumprod_ref(const ot_tensor *x, int axis, int excl, int rev, double *want) {
    int64_t n = ot_tensor_numel(x), co[OT_MAX_RANK];
    for (int64_t p = 0; p < n; p++) {
        unravel(p, x->rank, x->dims, co);
        const int64_t k = co[axis], len = x->dims[axis];
        double prod = 1;
        for (int64_t m = 0; m < len; m++) {
            bool in = rev ? (excl ? m > k : m >= k) : (excl ? m < k : m <= k);
            if (!in) continue;
            co[axis] = m;
            prod *= at(x, ravel(x->rank, x->dims, co));
        }
        want[p] = prod;
    }
}

static void test_cumprod(void) {
    const int64_t shapes[][3] = {{7, 1, 1}, {3, 5, 1}, {2, 3, 300}};
    const int ranks[] = {1, 2, 3};
    const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_INT64};
    for (int s = 0; s < 3; s++)
        for (int ti = 0; ti < 4; ti++)
            for (int axis = -ranks[s]; axis < ranks[s]; axis++)
                for (int mode = 0; mode < 4; mode++) {
                    ot_tensor *x = rand_tensor(types[ti], ranks[s], shapes[s], 1.5);
                    ot_tensor *in[2] = {x, scalar_i64(axis)};
                    attr_spec aa[2] = {INT("exclusive", mode & 1), INT("reverse", mode >> 1)};
                    op_run r;
                    CHECK(run_op(&r, "CumProd", 26, 2, in, 1, aa, 2) == OT_OK);
                    int64_t n = ot_tensor_numel(x);
                    double *want = malloc(sizeof(double) * (size_t)n);
                    cumprod_ref(x, axis < 0 ? axis + ranks[s] : axis, mode & 1, mode >> 1, want);
                    check_all("cumprod", r.out[0], want, n, types[ti] == OT_FLOAT16 ? 2e-2 : 1e-5);
                    /* in place, as the planner may run it */
                    if (types[ti] == OT_FLOAT) {
                        CHECK(ot_cpu_cumprod(x, axis < 0 ? axis + ranks[s] : axis, mode & 1, mode >> 1, x) == OT_OK);
                        check_all("cumprod in place", x, want, n, 1e-5);
                    }
                    free(want);
                    run_free(&r);
                    ot_tensor_free(in[1]);
                    ot_tensor_free(x);
                }
    /* int32 wraps like the unsigned product; example of the spec */
    int64_t d = 4;
    ot_tensor *x = tf(OT_INT32, 1, &d, (double[]){65536, 65536, 3, 2}), *in[2] = {x, scalar_i64(0)};
    op_run r;
    CHECK(run_op(&r, "CumProd", 26, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(((int32_t *)r.out[0]->data)[1] == 0 && ((int32_t *)r.out[0]->data)[0] == 65536);
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = scalar_i64(1);
    CHECK(run_op(&r, "CumProd", 26, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);
}

/* ---- SpaceToDepth / DepthToSpace ------------------------------------------------------------ */

static void test_space_depth(void) {
    const int64_t xd[4] = {2, 3, 4, 6}, bs = 2;
    ot_tensor *x = tf(OT_FLOAT, 4, xd, NULL);
    attr_spec a = INT("blocksize", bs);
    op_run r, r2;
    CHECK(run_op(&r, "SpaceToDepth", 13, 1, &x, 1, &a, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 4, (int64_t[]){2, 12, 2, 3}));
    /* y[n, (by * bs + bx) * C + c, h, w] = x[n, c, h * bs + by, w * bs + bx] */
    int ok = 1;
    for (int64_t p = 0; p < ot_tensor_numel(r.out[0]); p++) {
        int64_t co[4];
        unravel(p, 4, r.out[0]->dims, co);
        const int64_t blk = co[1] / 3, c = co[1] % 3, by = blk / bs, bx = blk % bs;
        ok &= at(r.out[0], p) == at(x, ravel(4, xd, (int64_t[]){co[0], c, co[2] * bs + by, co[3] * bs + bx}));
    }
    CHECK(ok);
    /* DepthToSpace (DCR, the opset-1 form) undoes it */
    CHECK(run_op(&r2, "DepthToSpace", 1, 1, &r.out[0], 1, &a, 1) == OT_OK);
    CHECK(dims_are(r2.out[0], 4, xd) && !memcmp(r2.out[0]->data, x->data, ot_tensor_nbytes(x)));
    run_free(&r2);
    run_free(&r);

    /* CRD: y[n, c, h * bs + by, w * bs + bx] = x[n, c * bs^2 + by * bs + bx, h, w] */
    const int64_t zd[4] = {1, 8, 2, 3};
    ot_tensor *z = tf(OT_INT16, 4, zd, NULL);
    attr_spec crd[2] = {INT("blocksize", 2), STR("mode", "CRD")};
    CHECK(run_op(&r, "DepthToSpace", 13, 1, &z, 1, crd, 2) == OT_OK);
    CHECK(dims_are(r.out[0], 4, (int64_t[]){1, 2, 4, 6}));
    ok = 1;
    for (int64_t p = 0; p < ot_tensor_numel(r.out[0]); p++) {
        int64_t co[4];
        unravel(p, 4, r.out[0]->dims, co);
        const int64_t c = co[1] * 4 + (co[2] % 2) * 2 + co[3] % 2;
        ok &= at(r.out[0], p) == at(z, ravel(4, zd, (int64_t[]){co[0], c, co[2] / 2, co[3] / 2}));
    }
    CHECK(ok);
    run_free(&r);
    CHECK(run_op(&r, "DepthToSpace", 10, 1, &z, 1, crd, 2) == OT_ERR_PARSE); /* no mode before 11 */
    run_free(&r);
    attr_spec b3 = INT("blocksize", 3);
    CHECK(run_op(&r, "DepthToSpace", 13, 1, &z, 1, &b3, 1) == OT_ERR_SHAPE);
    run_free(&r);
    CHECK(run_op(&r, "SpaceToDepth", 13, 1, &z, 1, &b3, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(z);
    ot_tensor_free(x);
}

/* ---- ReverseSequence ------------------------------------------------------------------------ */

static void test_reverse_sequence(void) {
    for (int time_axis = 0; time_axis < 2; time_axis++) {
        const int64_t xd[3] = {4, 5, 3}; /* (T, B, 3) or (B, T, 3) */
        ot_tensor *x = tf(OT_DOUBLE, 3, xd, NULL);
        const int64_t B = xd[1 - time_axis], T = xd[time_axis], lens_v[5] = {0, 1, 4, 2, 3};
        ot_tensor *in[2] = {x, ti64(1, &B, lens_v)};
        attr_spec aa[2] = {INT("batch_axis", 1 - time_axis), INT("time_axis", time_axis)};
        op_run r;
        CHECK(run_op(&r, "ReverseSequence", 10, 2, in, 1, aa, 2) == OT_OK);
        double want[60];
        for (int64_t p = 0; p < 60; p++) {
            int64_t co[3];
            unravel(p, 3, xd, co);
            const int64_t b = co[1 - time_axis], t = co[time_axis];
            if (t < lens_v[b]) co[time_axis] = lens_v[b] - 1 - t;
            want[p] = at(x, ravel(3, xd, co));
        }
        check_all("reverse_sequence", r.out[0], want, 60, 0);
        run_free(&r);
        ((int64_t *)in[1]->data)[2] = T + 1;
        CHECK(run_op(&r, "ReverseSequence", 10, 2, in, 1, aa, 2) == OT_ERR_INVALID_ARG);
        run_free(&r);
        ot_tensor_free(in[1]);
        ot_tensor_free(x);
    }
}

/* ---- LRN and LRNGrad ------------------------------------------------------------------------------ */

static double lrn_d(const ot_tensor *x, int64_t n, int64_t c, int64_t s, int64_t C, int64_t S, int size, double alpha,
                    double bias) {
    const int64_t lo = (size - 1) / 2, hi = size / 2;
    double sum = 0;
    for (int64_t i = c - lo; i <= c + hi; i++)
        if (i >= 0 && i < C) sum += at(x, (n * C + i) * S + s) * at(x, (n * C + i) * S + s);
    return bias + alpha / size * sum;
}

static void test_lrn(void) {
    const float betas[] = {0.75f, 0.6f};
    const int sizes[] = {3, 4, 1};
    const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_BFLOAT16};
    for (int ti = 0; ti < 3; ti++)
        for (int si = 0; si < 3; si++)
            for (int bi = 0; bi < 2; bi++) {
                const int64_t xd[4] = {2, 6, 3, 90}, N = 2, C = 6, S = 270;
                ot_tensor *x = rand_tensor(types[ti], 4, xd, 3.0), *dy = rand_tensor(types[ti], 4, xd, 1.0);
                attr_spec at_[4] = {INT("size", sizes[si]), FLT("alpha", 0.3f), FLT("beta", betas[bi]),
                                    FLT("bias", 1.5f)};
                op_run r;
                CHECK(run_op(&r, "LRN", 13, 1, &x, 1, at_, 4) == OT_OK);
                static double want[2 * 6 * 270], gwant[2 * 6 * 270];
                const int sz = sizes[si], lo = (sz - 1) / 2, hi = sz / 2;
                const double alpha = 0.3, beta = betas[bi], bias = 1.5;
                for (int64_t p = 0; p < N * C * S; p++) {
                    const int64_t n = p / (C * S), c = (p / S) % C, s = p % S;
                    want[p] = at(x, p) * pow(lrn_d(x, n, c, s, C, S, sz, alpha, bias), -beta);
                    /* d/dx_p of sum_q dy_q y_q */
                    double g = at(dy, p) * pow(lrn_d(x, n, c, s, C, S, sz, alpha, bias), -beta);
                    for (int64_t q = c - hi; q <= c + lo; q++) {
                        if (q < 0 || q >= C) continue;
                        const int64_t iq = (n * C + q) * S + s;
                        const double dq = lrn_d(x, n, q, s, C, S, sz, alpha, bias);
                        g -= 2 * alpha * beta / sz * at(x, p) * at(dy, iq) * at(x, iq) * pow(dq, -beta - 1);
                    }
                    gwant[p] = g;
                }
                const double tol = types[ti] == OT_BFLOAT16 ? 2e-2 : 1e-5;
                check_all("lrn", r.out[0], want, N * C * S, tol);
                run_free(&r);
                ot_tensor *gin[2] = {dy, x};
                CHECK(run_dom(&r, "ai.onnxtrain", "LRNGrad", 1, 2, gin, 1, at_, 4) == OT_OK);
                check_all("lrn_grad", r.out[0], gwant, N * C * S, types[ti] == OT_BFLOAT16 ? 5e-2 : 1e-4);
                run_free(&r);
                ot_tensor_free(dy);
                ot_tensor_free(x);
            }
    op_run r;
    ot_tensor *v = rand_tensor(OT_FLOAT, 1, (int64_t[]){4}, 1.0);
    attr_spec s3 = INT("size", 3);
    CHECK(run_op(&r, "LRN", 13, 1, &v, 1, &s3, 1) == OT_ERR_SHAPE);
    run_free(&r);
    CHECK(run_op(&r, "LRN", 13, 1, &v, 1, NULL, 0) == OT_ERR_PARSE); /* size is required */
    run_free(&r);
    ot_tensor_free(v);
}

/* ---- Det and DetGrad ------------------------------------------------------------------------------- */

/* Laplace expansion along row 0 of the m x m matrix a (row stride `ld`). */
static double det_ref(const double *a, int m) {
    if (m == 0) return 1;
    if (m == 1) return a[0];
    double sum = 0, minor[64];
    for (int j = 0; j < m; j++) {
        int q = 0;
        for (int i = 1; i < m; i++)
            for (int k = 0; k < m; k++)
                if (k != j) minor[q++] = a[i * m + k];
        sum += (j & 1 ? -1 : 1) * a[j] * det_ref(minor, m - 1);
    }
    return sum;
}

static void det_case(ot_dtype dt, int rank, const int64_t *dims, const double *vals, double tol) {
    ot_tensor *x = vals ? tf(dt, rank, dims, vals) : rand_tensor(dt, rank, dims, 1.0);
    const int m = (int)dims[rank - 1];
    int64_t batch = ot_tensor_numel(x) / (m * m > 0 ? m * m : 1);
    op_run r;
    CHECK(run_op(&r, "Det", 22, 1, &x, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], rank - 2, dims));
    ot_tensor *dy = rand_tensor(dt, rank - 2, dims, 1.0);
    double want[64], gwant[64 * 25], a[25], minor[25];
    for (int64_t b = 0; b < batch; b++) {
        for (int k = 0; k < m * m; k++) a[k] = at(x, b * m * m + k);
        want[b] = det_ref(a, m);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) { /* cofactor (i, j) */
                int q = 0;
                for (int p = 0; p < m; p++)
                    for (int s = 0; s < m; s++)
                        if (p != i && s != j) minor[q++] = a[p * m + s];
                gwant[b * m * m + i * m + j] = at(dy, b) * ((i + j) & 1 ? -1 : 1) * det_ref(minor, m - 1);
            }
    }
    check_all("det", r.out[0], want, batch, tol);
    run_free(&r);
    ot_tensor *gin[2] = {dy, x};
    CHECK(run_dom(&r, "ai.onnxtrain", "DetGrad", 1, 2, gin, 1, NULL, 0) == OT_OK);
    check_all("det_grad", r.out[0], gwant, batch * m * m, tol);
    run_free(&r);
    ot_tensor_free(dy);
    ot_tensor_free(x);
}

static void test_det(void) {
    det_case(OT_DOUBLE, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4}, 1e-12);
    det_case(OT_DOUBLE, 3, (int64_t[]){2, 3, 3}, NULL, 1e-12);
    det_case(OT_FLOAT, 4, (int64_t[]){2, 3, 4, 4}, NULL, 1e-5);
    det_case(OT_DOUBLE, 3, (int64_t[]){3, 5, 5}, NULL, 1e-11);
    det_case(OT_FLOAT16, 3, (int64_t[]){2, 3, 3}, NULL, 1e-2);
    /* exactly singular (rank 2 and rank 1): the adjugate from cofactors */
    det_case(OT_DOUBLE, 2, (int64_t[]){3, 3}, (double[]){1, 2, 3, 2, 4, 6, 1, 0, 1}, 1e-12);
    det_case(OT_DOUBLE, 2, (int64_t[]){3, 3}, (double[]){1, 2, 3, 2, 4, 6, 3, 6, 9}, 1e-12);
    det_case(OT_DOUBLE, 2, (int64_t[]){1, 1}, (double[]){0}, 0);
    op_run r;
    ot_tensor *x = rand_tensor(OT_FLOAT, 2, (int64_t[]){2, 3}, 1.0);
    CHECK(run_op(&r, "Det", 22, 1, &x, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(x);
}

/* ---- Swish, SwishGrad, Binarizer, EyeLike, BitCast ------------------------------------------------------- */

static void test_elementwise(void) {
    const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16};
    for (int ti = 0; ti < 3; ti++) {
        const int64_t n = 5000;
        ot_tensor *x = rand_tensor(types[ti], 1, &n, 12.0), *dy = rand_tensor(types[ti], 1, &n, 1.0);
        attr_spec a = FLT("alpha", 0.7f);
        op_run r;
        CHECK(run_op(&r, "Swish", 24, 1, &x, 1, &a, 1) == OT_OK);
        static double want[5000], gwant[5000];
        for (int64_t i = 0; i < n; i++) {
            const double v = at(x, i), s = 1 / (1 + exp(-0.7 * v));
            want[i] = v * s;
            gwant[i] = at(dy, i) * (s + 0.7 * v * s * (1 - s));
        }
        const double tol = types[ti] == OT_FLOAT16 ? 1e-2 : 1e-6;
        check_all("swish", r.out[0], want, n, tol);
        run_free(&r);
        ot_tensor *gin[2] = {dy, x};
        CHECK(run_dom(&r, "ai.onnxtrain", "SwishGrad", 1, 2, gin, 1, &a, 1) == OT_OK);
        check_all("swish_grad", r.out[0], gwant, n, tol);
        run_free(&r);
        ot_tensor_free(dy);
        ot_tensor_free(x);
    }
    /* Binarizer (ai.onnx.ml): strictly greater than the threshold */
    int64_t d = 5;
    ot_tensor *x = tf(OT_INT64, 1, &d, (double[]){-3, 1, 2, 3, 7}), *xf = tf(OT_FLOAT, 1, &d, (double[]){-1, 0.5, 2, 2.1, NAN});
    attr_spec th = FLT("threshold", 2.0f);
    op_run r;
    CHECK(run_dom(&r, "ai.onnx.ml", "Binarizer", 1, 1, &x, 1, &th, 1) == OT_OK);
    check_all("binarizer", r.out[0], (double[]){0, 0, 0, 1, 1}, 5, 0);
    CHECK(r.out[0]->dtype == OT_INT64);
    run_free(&r);
    CHECK(run_dom(&r, "ai.onnx.ml", "Binarizer", 1, 1, &xf, 1, &th, 1) == OT_OK);
    check_all("binarizer_f", r.out[0], (double[]){0, 0, 0, 1, 0}, 5, 0);
    run_free(&r);
    ot_tensor_free(xf);

    /* EyeLike: k above and below, dtype from the attribute or the input */
    const int64_t ed[2] = {3, 4};
    ot_tensor *e = tf(OT_INT32, 2, ed, NULL);
    attr_spec ek[2] = {INT("k", 1), INT("dtype", OT_BOOL)};
    CHECK(run_op(&r, "EyeLike", 22, 1, &e, 1, ek, 2) == OT_OK);
    CHECK(r.out[0]->dtype == OT_BOOL);
    check_all("eyelike_k1", r.out[0], (double[]){0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, 12, 0);
    run_free(&r);
    attr_spec km = INT("k", -2);
    CHECK(run_op(&r, "EyeLike", 9, 1, &e, 1, &km, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_INT32);
    check_all("eyelike_km2", r.out[0], (double[]){0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 12, 0);
    run_free(&r);
    attr_spec k9 = INT("k", 9);
    CHECK(run_op(&r, "EyeLike", 9, 1, &e, 1, &k9, 1) == OT_OK);
    check_all("eyelike_k9", r.out[0], (double[12]){0}, 12, 0);
    run_free(&r);
    CHECK(run_op(&r, "EyeLike", 9, 1, &x, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(e);

    /* BitCast keeps the bits; widths must agree */
    ot_tensor *f = tf(OT_FLOAT, 1, &d, (double[]){1, -2, 0.5, 0, -0.0});
    attr_spec to = INT("to", OT_INT32), to64 = INT("to", OT_INT64);
    CHECK(run_op(&r, "BitCast", 26, 1, &f, 1, &to, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_INT32 && ((int32_t *)r.out[0]->data)[0] == 0x3f800000 &&
          ((uint32_t *)r.out[0]->data)[4] == 0x80000000u);
    run_free(&r);
    CHECK(run_op(&r, "BitCast", 26, 1, &f, 1, &to64, 1) == OT_ERR_TYPE);
    run_free(&r);
    ot_tensor_free(f);
    ot_tensor_free(x);
}

/* ---- RandomUniformLike, Bernoulli ------------------------------------------------------------------------ */

static void test_random(void) {
    const int64_t n = 100000;
    ot_tensor *x = tf(OT_INT32, 1, &n, NULL);
    attr_spec a[3] = {FLT("low", -2.0f), FLT("high", 3.0f), INT("dtype", OT_DOUBLE)};
    op_run r, r2;
    run_opts o = {.seed = 7, .step = 3, .node_index = 2};
    CHECK(run_op_x(&r, "RandomUniformLike", 22, 1, &x, 1, a, 3, &o) == OT_OK);
    CHECK(r.out[0]->dtype == OT_DOUBLE && dims_are(r.out[0], 1, &n));
    double sum = 0, lo = 1e9, hi = -1e9;
    for (int64_t i = 0; i < n; i++) {
        const double v = at(r.out[0], i);
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    CHECK(lo >= -2 && hi < 3 && lo < -1.99 && hi > 2.99);
    CHECK_CLOSE(sum / n, 0.5, 0, 0.03); /* sd of the mean: 5 / sqrt(12 n) = 0.0046 */
    /* same (seed, node, step): same values; another step: others */
    CHECK(run_op_x(&r2, "RandomUniformLike", 22, 1, &x, 1, a, 3, &o) == OT_OK);
    CHECK(!memcmp(r.out[0]->data, r2.out[0]->data, ot_tensor_nbytes(r.out[0])));
    run_free(&r2);
    o.step = 4;
    CHECK(run_op_x(&r2, "RandomUniformLike", 22, 1, &x, 1, a, 3, &o) == OT_OK);
    CHECK(memcmp(r.out[0]->data, r2.out[0]->data, ot_tensor_nbytes(r.out[0])) != 0);
    run_free(&r2);
    run_free(&r);
    CHECK(run_op(&r, "RandomUniformLike", 22, 1, &x, 1, NULL, 0) == OT_ERR_TYPE); /* int32 output: dtype needed */
    run_free(&r);

    /* Bernoulli: p = 0 and 1 exact; p = 0.3 within 5 sd; any output type */
    ot_tensor *p = tf(OT_FLOAT, 1, &n, NULL);
    for (int64_t i = 0; i < n; i++) ((float *)p->data)[i] = i < 10 ? 0.0f : i < 20 ? 1.0f : 0.3f;
    const ot_dtype outs[] = {OT_BOOL, OT_FLOAT, OT_INT64, OT_DOUBLE};
    for (int k = 0; k < 4; k++) {
        attr_spec dt = INT("dtype", outs[k]);
        CHECK(run_op_x(&r, "Bernoulli", 15, 1, &p, 1, &dt, 1, &o) == OT_OK);
        int ok = r.out[0]->dtype == outs[k];
        double ones = 0;
        for (int64_t i = 0; i < n; i++) {
            const double v = at(r.out[0], i);
            ok &= v == 0 || v == 1;
            if (i < 10) ok &= v == 0;
            else if (i < 20) ok &= v == 1;
            else ones += v;
        }
        CHECK(ok);
        CHECK_CLOSE(ones / (double)(n - 20), 0.3, 0, 5 * sqrt(0.21 / (double)n));
        run_free(&r);
    }
    ot_tensor *pd = tf(OT_DOUBLE, 1, &n, NULL);
    for (int64_t i = 0; i < n; i++) ((double *)pd->data)[i] = 0.9;
    attr_spec seed = FLT("seed", 5.0f);
    CHECK(run_op_x(&r, "Bernoulli", 22, 1, &pd, 1, &seed, 1, &o) == OT_OK);
    double ones = 0;
    for (int64_t i = 0; i < n; i++) ones += at(r.out[0], i);
    CHECK(r.out[0]->dtype == OT_DOUBLE);
    CHECK_CLOSE(ones / n, 0.9, 0, 5 * sqrt(0.09 / (double)n));
    run_free(&r);
    ot_tensor_free(pd);
    ot_tensor_free(p);
    ot_tensor_free(x);
}

/* ---- TensorScatter ----------------------------------------------------------------------------------------- */

static void test_tensor_scatter(void) {
    for (int circ = 0; circ < 2; circ++)
        for (int axis = 1; axis < 3; axis++) {
            const int64_t cd[4] = {2, 5, 4, 3};
            int64_t ud[4] = {2, 5, 4, 3};
            ud[axis] = axis == 1 ? 3 : 2;
            ot_tensor *cache = tf(OT_FLOAT, 4, cd, NULL), *upd = rand_tensor(OT_FLOAT, 4, ud, 1.0);
            const int64_t two = 2, wi[2] = {circ ? cd[axis] - 1 : 1, circ ? 3 : 0};
            ot_tensor *in[3] = {cache, upd, ti64(1, &two, wi)};
            attr_spec at_[2] = {STR("mode", circ ? "circular" : "linear"), INT("axis", axis - 4)};
            op_run r;
            CHECK(run_op(&r, "TensorScatter", 24, 3, in, 1, at_, 2) == OT_OK);
            double want[120];
            for (int64_t p = 0; p < 120; p++) want[p] = at(cache, p);
            for (int64_t p = 0; p < ot_tensor_numel(upd); p++) {
                int64_t co[4];
                unravel(p, 4, ud, co);
                co[axis] = (wi[co[0]] + co[axis]) % cd[axis];
                want[ravel(4, cd, co)] = at(upd, p);
            }
            check_all("tensor_scatter", r.out[0], want, 120, 0);
            run_free(&r);
            /* without write_indices: rows from 0 */
            CHECK(run_op(&r, "TensorScatter", 24, 2, in, 1, at_, 2) == OT_OK);
            run_free(&r);
            if (!circ) { /* a linear write past the end fails */
                ((int64_t *)in[2]->data)[1] = cd[axis] - ud[axis] + 1;
                CHECK(run_op(&r, "TensorScatter", 24, 3, in, 1, at_, 2) == OT_ERR_INVALID_ARG);
                run_free(&r);
            }
            ot_tensor_free(in[2]);
            ot_tensor_free(upd);
            ot_tensor_free(cache);
        }
    op_run r;
    ot_tensor *c = tf(OT_FLOAT, 2, (int64_t[]){2, 3}, NULL), *u = tf(OT_FLOAT, 2, (int64_t[]){2, 4}, NULL);
    ot_tensor *in[2] = {c, u};
    attr_spec a1 = INT("axis", 1);
    CHECK(run_op(&r, "TensorScatter", 24, 2, in, 1, &a1, 1) == OT_ERR_SHAPE);
    run_free(&r);
    attr_spec a0 = INT("axis", 0);
    CHECK(run_op(&r, "TensorScatter", 24, 2, in, 1, &a0, 1) == OT_ERR_INVALID_ARG);
    run_free(&r);
    ot_tensor_free(u);
    ot_tensor_free(c);
}

/* ---- CenterCropPad ----------------------------------------------------------------------------------------- */

static void test_center_crop_pad(void) {
    const int64_t xd[3] = {5, 4, 3};
    ot_tensor *x = tf(OT_UINT8, 3, xd, NULL);
    /* axes (0, -1): 5 -> 2 (crop from 1), 3 -> 6 (pad 1 before, 2 after) */
    const int64_t two = 2, sv[2] = {2, 6};
    ot_tensor *in[2] = {x, ti64(1, &two, sv)};
    attr_spec ax = INTS("axes", 0, -1);
    op_run r;
    CHECK(run_op(&r, "CenterCropPad", 18, 2, in, 1, &ax, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 4, 6}));
    double want[48];
    for (int64_t p = 0; p < 48; p++) {
        int64_t co[3];
        unravel(p, 3, r.out[0]->dims, co);
        const int64_t w = co[2] - 1;
        want[p] = w < 0 || w >= 3 ? 0 : at(x, ravel(3, xd, (int64_t[]){co[0] + 1, co[1], w}));
    }
    check_all("center_crop_pad", r.out[0], want, 48, 0);
    run_free(&r);
    /* without axes the shape names every dim */
    CHECK(run_op(&r, "CenterCropPad", 18, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    attr_spec dup = INTS("axes", 2, -1);
    CHECK(run_op(&r, "CenterCropPad", 18, 2, in, 1, &dup, 1) == OT_ERR_INVALID_ARG);
    run_free(&r);
    /* the target sizes must be known when compiling */
    ot_tensor *desc;
    ot_tensor_new_desc(OT_INT64, 1, &two, &desc);
    ot_tensor *in2[2] = {x, desc};
    CHECK(run_op_x(&r, "CenterCropPad", 18, 2, in2, 1, &ax, 1, &(run_opts){.infer_only = true}) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(desc);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);
}

/* ---- Unique ------------------------------------------------------------------------------------------------- */

static void unique_case(ot_dtype dt, int rank, const int64_t *dims, const double *x_v, const attr_spec *attrs,
                        int n_attrs, int yrank, const int64_t *ydims, const double *y, int64_t U, const double *idx,
                        int64_t nslices, const double *inv, const double *cnt) {
    ot_tensor *x = tf(dt, rank, dims, x_v);
    op_run r;
    CHECK(run_op(&r, "Unique", 11, 1, &x, 4, attrs, n_attrs) == OT_OK);
    CHECK(dims_are(r.out[0], yrank, ydims) && r.out[0]->dtype == dt);
    check_all("unique_y", r.out[0], y, ot_tensor_numel(r.out[0]), 0);
    CHECK(r.out[1]->dims[0] == U && r.out[2]->dims[0] == nslices && r.out[3]->dims[0] == U);
    check_all("unique_indices", r.out[1], idx, U, 0);
    check_all("unique_inverse", r.out[2], inv, nslices, 0);
    check_all("unique_counts", r.out[3], cnt, U, 0);
    run_free(&r);
    ot_tensor_free(x);
}

static void test_unique(void) {
    const int64_t six = 6, sq[2] = {2, 2}, s33[2] = {3, 3}, s242[3] = {2, 4, 2};
    attr_spec unsorted = INT("sorted", 0), ax0[2] = {INT("axis", 0), INT("sorted", 1)}, ax1 = INT("axis", 1);
    /* the spec's examples 1 to 4 */
    unique_case(OT_INT64, 1, &six, (double[]){2, 1, 1, 3, 4, 3}, &unsorted, 1, 1, (int64_t[]){4},
                (double[]){2, 1, 3, 4}, 4, (double[]){0, 1, 3, 4}, 6, (double[]){0, 1, 1, 2, 3, 2}, (double[]){1, 2, 2, 1});
    unique_case(OT_FLOAT, 2, sq, (double[]){1, 3, 2, 3}, NULL, 0, 1, (int64_t[]){3}, (double[]){1, 2, 3}, 3,
                (double[]){0, 2, 1}, 4, (double[]){0, 2, 1, 2}, (double[]){1, 1, 2});
    unique_case(OT_INT32, 2, s33, (double[]){1, 0, 0, 1, 0, 0, 2, 3, 4}, ax0, 2, 2, (int64_t[]){2, 3},
                (double[]){1, 0, 0, 2, 3, 4}, 2, (double[]){0, 2}, 3, (double[]){0, 0, 1}, (double[]){2, 1});
    unique_case(OT_DOUBLE, 3, s242, (double[]){1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1}, &ax1, 1, 3,
                (int64_t[]){2, 3, 2}, (double[]){0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1}, 3, (double[]){1, 0, 2}, 4,
                (double[]){1, 0, 2, 0}, (double[]){2, 1, 1});
    /* NaNs: one group, after every number; -0 equals 0 */
    unique_case(OT_FLOAT, 1, &six, (double[]){NAN, 1, -0.0, NAN, 0, -1}, NULL, 0, 1, (int64_t[]){4},
                (double[]){-1, 0, 1, NAN}, 4, (double[]){5, 2, 1, 0}, 6, (double[]){3, 2, 1, 3, 1, 0},
                (double[]){1, 2, 1, 2});
    /* the value must be known when compiling */
    ot_tensor *desc;
    ot_tensor_new_desc(OT_FLOAT, 1, &six, &desc);
    op_run r;
    CHECK(run_op_x(&r, "Unique", 11, 1, &desc, 1, NULL, 0, &(run_opts){.infer_only = true}) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(desc);
}

/* ---- CumProdGrad against the O(n^2) definition, zeros included ---------------------------------------------- */

static void test_cumprod_grad(void) {
    const int64_t xd[3] = {3, 5, 20};
    for (int dt = 0; dt < 2; dt++)
        for (int mode = 0; mode < 4; mode++)
            for (int axis = 0; axis < 3; axis++) {
                const ot_dtype t = dt ? OT_DOUBLE : OT_FLOAT;
                ot_tensor *x = rand_tensor(t, 3, xd, 1.5), *dy = rand_tensor(t, 3, xd, 1.0);
                for (int64_t i = 0; i < ot_tensor_numel(x); i += 7) ot_store_f64(t, x->data, i, 0.0); /* zeros */
                const int excl = mode & 1, rev = mode >> 1;
                const int64_t n = ot_tensor_numel(x), len = xd[axis];
                double *want = calloc((size_t)n, sizeof(double));
                for (int64_t p = 0; p < n; p++) { /* dx_p = sum over outputs q on p's line of dy_q dy_q/dx_p */
                    int64_t co[3];
                    unravel(p, 3, xd, co);
                    const int64_t k = co[axis];
                    for (int64_t q = 0; q < len; q++) {
                        int64_t cq[3] = {co[0], co[1], co[2]};
                        cq[axis] = q;
                        double prod = at(dy, ravel(3, xd, cq));
                        bool uses = false;
                        for (int64_t m = 0; m < len; m++) {
                            bool in = rev ? (excl ? m > q : m >= q) : (excl ? m < q : m <= q);
                            if (!in) continue;
                            if (m == k) uses = true;
                            else cq[axis] = m, prod *= at(x, ravel(3, xd, cq));
                        }
                        if (uses) want[p] += prod;
                    }
                }
                ot_tensor *in[3] = {dy, x, scalar_i64(axis - 3)};
                attr_spec at_[2] = {INT("exclusive", excl), INT("reverse", rev)};
                op_run r;
                CHECK(run_dom(&r, "ai.onnxtrain", "CumProdGrad", 1, 3, in, 1, at_, 2) == OT_OK);
                check_all("cumprod_grad", r.out[0], want, n, dt ? 1e-10 : 1e-4);
                run_free(&r);
                free(want);
                ot_tensor_free(in[2]);
                ot_tensor_free(dy);
                ot_tensor_free(x);
            }
}

int main(void) {
    test_cumprod();
    test_space_depth();
    test_reverse_sequence();
    test_lrn();
    test_det();
    test_elementwise();
    test_random();
    test_tensor_scatter();
    test_center_crop_pad();
    test_unique();
    test_cumprod_grad();
    return check_done();
}
