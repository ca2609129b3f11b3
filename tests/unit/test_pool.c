/* Pooling ops: MaxPool (values and Indices), AveragePool, LpPool, MaxUnpool
   and the global pools against a naive reference that enumerates every window tap,
   plus hand-computed ONNX examples and error cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"
#include "src/core/half.h"

/* ---- naive reference ------------------------------------------------------------ */

typedef struct pool_case {
    int n;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
    int ceil_mode;
} pool_case;

/* Output size with the PyTorch rule, written out independently of window.c. */
static int64_t ref_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, int ceil_mode) {
    double span = (double)(in + pb + pe - (k - 1) * d - 1) / (double)s;
    int64_t o = (int64_t)(ceil_mode ? ceil(span) : floor(span)) + 1;
    if (ceil_mode && (o - 1) * s >= in + pb) o--;
    return o;
}

enum { REF_MAX, REF_AVG0, REF_AVG1, REF_LP };

/* Every output of every plane by enumerating all k^n taps; idx gets the
   row-major argmax (within all planes) or col-major when col. */
static void ref_pool(const pool_case *pc, int64_t NC, const double *x, int kind, int64_t p, int col, double *y,
                     int64_t *idx, int64_t *out_dims) {
    int64_t out[3] = {1, 1, 1}, in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {0}, pe[3] = {0};
    int off = 3 - pc->n;
    for (int i = 0; i < pc->n; i++) {
        in[off + i] = pc->in[i];
        k[off + i] = pc->k[i];
        s[off + i] = pc->s[i];
        d[off + i] = pc->d[i];
        pb[off + i] = pc->pb[i];
        pe[off + i] = pc->pe[i];
        out[off + i] = ref_out(pc->in[i], pc->k[i], pc->s[i], pc->d[i], pc->pb[i], pc->pe[i], pc->ceil_mode);
        out_dims[i] = out[off + i];
    }
    int64_t plane = in[0] * in[1] * in[2], o = 0;
    for (int64_t c = 0; c < NC; c++)
        for (int64_t a0 = 0; a0 < out[0]; a0++)
            for (int64_t a1 = 0; a1 < out[1]; a1++)
                for (int64_t a2 = 0; a2 < out[2]; a2++, o++) {
                    double best = -INFINITY, sum = 0;
                    int64_t bi = -1, cnt = 0, cntp = 0;
                    for (int64_t t0 = 0; t0 < k[0]; t0++)
                        for (int64_t t1 = 0; t1 < k[1]; t1++)
                            for (int64_t t2 = 0; t2 < k[2]; t2++) {
                                int64_t q[3] = {a0 * s[0] - pb[0] + t0 * d[0], a1 * s[1] - pb[1] + t1 * d[1],
                                                a2 * s[2] - pb[2] + t2 * d[2]};
                                int inside = 1, padded = 1;
                                for (int z = 0; z < 3; z++) {
                                    inside &= q[z] >= 0 && q[z] < in[z];
                                    padded &= q[z] < in[z] + pe[z];
                                }
                                cntp += padded;
                                if (!inside) continue;
                                cnt++;
                                double v = x[c * plane + (q[0] * in[1] + q[1]) * in[2] + q[2]];
                                sum += kind == REF_LP ? pow(fabs(v), (double)p) : v;
                                if (bi < 0 || v > best) {
                                    best = v;
                                    int64_t sp = (q[0] * in[1] + q[1]) * in[2] + q[2];
                                    if (col) { /* first real axis fastest */
                                        sp = 0;
                                        int64_t mul = 1;
                                        for (int z = off; z < 3; z++) {
                                            sp += q[z] * mul;
                                            mul *= in[z];
                                        }
                                    }
                                    bi = c * plane + sp;
                                }
                            }
                    y[o] = kind == REF_MAX ? best : kind == REF_AVG0 ? sum / (double)cnt
                         : kind == REF_AVG1 ? sum / (double)cntp : pow(sum, 1.0 / (double)p);
                    if (idx) idx[o] = bi;
                }
}

/* Runs one op on a random input and compares with ref_pool. */
static void check_pool_case(const char *op, ot_dtype dt, const pool_case *pc, int kind, int64_t p, int col,
                            int64_t opset) {
    int64_t xd[5] = {2, 3, 1, 1, 1};
    for (int i = 0; i < pc->n; i++) xd[2 + i] = pc->in[i];
    int rank = pc->n + 2;
    ot_tensor *x = rand_tensor(dt, rank, xd, 4);
    int64_t NC = 6, plane = 1;
    for (int i = 0; i < pc->n; i++) plane *= pc->in[i];
    double *xv = malloc(sizeof(double) * (size_t)(NC * plane));
    for (int64_t i = 0; i < NC * plane; i++) xv[i] = ot_load_f64(dt, x->data, i);
    int64_t od[3];
    double *yref = malloc(sizeof(double) * 4096);
    int64_t *iref = malloc(sizeof(int64_t) * 4096);
    ref_pool(pc, NC, xv, kind, p, col, yref, iref, od);

    attr_spec at[10];
    int na = 0;
    at[na] = (attr_spec){.name = "kernel_shape", .kind = 'l', .n = pc->n};
    memcpy(at[na++].ints, pc->k, sizeof(int64_t) * (size_t)pc->n);
    at[na] = (attr_spec){.name = "strides", .kind = 'l', .n = pc->n};
    memcpy(at[na++].ints, pc->s, sizeof(int64_t) * (size_t)pc->n);
    at[na] = (attr_spec){.name = "dilations", .kind = 'l', .n = pc->n};
    memcpy(at[na++].ints, pc->d, sizeof(int64_t) * (size_t)pc->n);
    at[na] = (attr_spec){.name = "pads", .kind = 'l', .n = 2 * pc->n};
    memcpy(at[na].ints, pc->pb, sizeof(int64_t) * (size_t)pc->n);
    memcpy(at[na++].ints + pc->n, pc->pe, sizeof(int64_t) * (size_t)pc->n);
    at[na++] = (attr_spec)INT("ceil_mode", pc->ceil_mode);
    if (kind == REF_AVG0 || kind == REF_AVG1) at[na++] = (attr_spec)INT("count_include_pad", kind == REF_AVG1);
    if (kind == REF_LP) at[na++] = (attr_spec)INT("p", p);
    if (kind == REF_MAX) at[na++] = (attr_spec)INT("storage_order", col);

    op_run r;
    int n_out = kind == REF_MAX ? 2 : 1;
    ot_status s = run_op(&r, op, opset, 1, &x, n_out, at, na);
    CHECK_MSG(s == OT_OK, "%s: %s", op, ot_last_error());
    if (s == OT_OK) {
        int64_t n_o = NC;
        for (int i = 0; i < pc->n; i++) {
            CHECK(r.out[0]->dims[2 + i] == od[i]);
            n_o *= od[i];
        }
        double tol = dt == OT_DOUBLE ? 1e-12 : dt == OT_FLOAT ? 1e-5 : 1e-2;
        int bad = 0;
        for (int64_t i = 0; i < n_o && bad < 5; i++) {
            double got = ot_load_f64(dt, r.out[0]->data, i), want = yref[i];
            if (dt == OT_FLOAT16) want = ot_f16_to_f32(ot_f32_to_f16((float)want));
            if (!check_close(got, want, tol, tol)) {
                bad++;
                CHECK_MSG(0, "%s %s out[%lld] = %.9g, want %.9g", op, ot_dtype_name(dt), (long long)i, got, want);
            }
            if (kind == REF_MAX && ((int64_t *)r.out[1]->data)[i] != iref[i]) {
                bad++;
                CHECK_MSG(0, "%s index[%lld] = %lld, want %lld", op, (long long)i,
                          (long long)((int64_t *)r.out[1]->data)[i], (long long)iref[i]);
            }
        }
        if (!bad) CHECK(1);
    }
    run_free(&r);
    ot_tensor_free(x);
    free(xv);
    free(yref);
    free(iref);
}

static const pool_case cases[] = {
    {2, {7, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 0},
    {2, {7, 9}, {3, 2}, {2, 3}, {1, 1}, {0, 1}, {1, 0}, 1}, /* ceil: overhang past the end */
    {2, {5, 6}, {2, 2}, {1, 2}, {2, 2}, {0, 1}, {0, 0}, 1}, /* dilation + ceil */
    {2, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, 1}, /* test_*_2d_ceil */
    {1, {10}, {3}, {3}, {1}, {2}, {1}, 1},
    {1, {8}, {2}, {1}, {3}, {0}, {0}, 0},
    {3, {5, 4, 6}, {2, 3, 2}, {2, 1, 3}, {1, 1, 2}, {1, 0, 1}, {0, 1, 1}, 1},
    {3, {8, 8, 8}, {3, 3, 3}, {3, 3, 3}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, 1},
};

static void test_windows_vs_reference(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pool_case *pc = &cases[i];
        check_pool_case("MaxPool", OT_FLOAT, pc, REF_MAX, 0, 0, 12);
        check_pool_case("MaxPool", OT_DOUBLE, pc, REF_MAX, 0, 1, 12);
        check_pool_case("AveragePool", OT_FLOAT, pc, REF_AVG0, 0, 0, 19);
        check_pool_case("AveragePool", OT_DOUBLE, pc, REF_AVG1, 0, 0, 19);
        check_pool_case("LpPool", OT_FLOAT, pc, REF_LP, 3, 0, 18);
        check_pool_case("LpPool", OT_DOUBLE, pc, REF_LP, 2, 0, 18);
    }
    check_pool_case("MaxPool", OT_FLOAT16, &cases[0], REF_MAX, 0, 1, 22);
    check_pool_case("AveragePool", OT_FLOAT16, &cases[1], REF_AVG1, 0, 0, 22);
}

/* ONNX's documented examples (backend tests averagepool_2d_ceil and
   averagepool_2d_ceil_last_window_starts_on_pad). */
static void test_onnx_examples(void) {
    float xv[16];
    for (int i = 0; i < 16; i++) xv[i] = (float)(i + 1);
    int64_t xd[4] = {1, 1, 4, 4};
    ot_tensor *x = tensor(OT_FLOAT, 4, xd, xv);
    attr_spec at[] = {INTS("kernel_shape", 3, 3), INTS("strides", 2, 2), INT("ceil_mode", 1)};
    op_run r;
    CHECK(run_op(&r, "AveragePool", 22, 1, &x, 1, at, 3) == OT_OK);
    const float want[4] = {6, 7.5f, 12, 13.5f};
    for (int i = 0; i < 4; i++) CHECK_CLOSE(((float *)r.out[0]->data)[i], want[i], 1e-6, 0);
    run_free(&r);
    ot_tensor_free(x);

    float x2[4] = {0.8580f, 0.0786f, 0.2692f, 0.1537f};
    int64_t xd2[4] = {1, 1, 2, 2};
    x = tensor(OT_FLOAT, 4, xd2, x2);
    attr_spec at2[] = {INTS("kernel_shape", 3, 3), INTS("strides", 3, 3), INTS("pads", 1, 1, 1, 1),
                       INT("ceil_mode", 1), INT("count_include_pad", 1)};
    CHECK(run_op(&r, "AveragePool", 22, 1, &x, 1, at2, 5) == OT_OK);
    CHECK(r.out[0]->dims[2] == 1 && r.out[0]->dims[3] == 1);
    CHECK_CLOSE(((float *)r.out[0]->data)[0], 0.1511f, 1e-3, 0);
    run_free(&r);
    ot_tensor_free(x);

    /* SAME_UPPER: 5x5, k 3, s 2 -> 3x3 with pads (1, 1); SAME_LOWER k 2 pads at the start. */
    float x3[25];
    for (int i = 0; i < 25; i++) x3[i] = (float)(i + 1);
    int64_t xd3[4] = {1, 1, 5, 5};
    x = tensor(OT_FLOAT, 4, xd3, x3);
    attr_spec at3[] = {INTS("kernel_shape", 3, 3), INTS("strides", 2, 2), STR("auto_pad", "SAME_UPPER")};
    CHECK(run_op(&r, "MaxPool", 22, 1, &x, 1, at3, 3) == OT_OK);
    const float want3[9] = {7, 9, 10, 17, 19, 20, 22, 24, 25};
    for (int i = 0; i < 9; i++) CHECK_CLOSE(((float *)r.out[0]->data)[i], want3[i], 0, 0);
    run_free(&r);
    attr_spec at4[] = {INTS("kernel_shape", 2, 2), STR("auto_pad", "SAME_LOWER")};
    CHECK(run_op(&r, "AveragePool", 22, 1, &x, 1, at4, 2) == OT_OK);
    CHECK(r.out[0]->dims[2] == 5 && r.out[0]->dims[3] == 5);
    CHECK_CLOSE(((float *)r.out[0]->data)[0], 1, 0, 0);         /* only x[0,0] is real */
    CHECK_CLOSE(((float *)r.out[0]->data)[6], (1 + 2 + 6 + 7) / 4.0, 1e-6, 0);
    run_free(&r);
    ot_tensor_free(x);
}

static void test_maxpool_nan_and_int(void) {
    float xv[4] = {1, NAN, 3, 2};
    int64_t xd[3] = {1, 1, 4};
    ot_tensor *x = tensor(OT_FLOAT, 3, xd, xv);
    attr_spec at[] = {INTS("kernel_shape", 2)};
    op_run r;
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 2, at, 1) == OT_OK);
    const float *y = r.out[0]->data;
    const int64_t *ix = r.out[1]->data;
    CHECK(isnan(y[0]) && isnan(y[1]) && y[2] == 3);
    CHECK(ix[0] == 1 && ix[1] == 1 && ix[2] == 2);
    run_free(&r);
    ot_tensor_free(x);

    uint8_t u[6] = {5, 250, 3, 7, 7, 0};
    int64_t ud[3] = {1, 2, 3};
    x = tensor(OT_UINT8, 3, ud, u);
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 2, at, 1) == OT_OK);
    const uint8_t *yu = r.out[0]->data;
    ix = r.out[1]->data;
    CHECK(yu[0] == 250 && yu[1] == 250 && yu[2] == 7 && yu[3] == 7);
    CHECK(ix[0] == 1 && ix[1] == 1 && ix[2] == 3 && ix[3] == 4); /* ties keep the first */
    run_free(&r);
    ot_tensor_free(x);
}

static void test_global(void) {
    int64_t xd[4] = {2, 3, 5, 7};
    ot_tensor *x = rand_tensor(OT_FLOAT, 4, xd, 4);
    const float *xv = x->data;
    const char *ops[3] = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"};
    for (int k = 0; k < 3; k++) {
        op_run r;
        attr_spec at[] = {INT("p", 3)};
        CHECK(run_op(&r, ops[k], 22, 1, &x, 1, at, k == 2 ? 1 : 0) == OT_OK);
        CHECK(r.out[0]->rank == 4 && r.out[0]->dims[1] == 3 && r.out[0]->dims[2] == 1 && r.out[0]->dims[3] == 1);
        for (int c = 0; c < 6; c++) {
            double sum = 0, mx = -INFINITY, lp = 0;
            for (int i = 0; i < 35; i++) {
                double v = xv[c * 35 + i];
                sum += v;
                mx = v > mx ? v : mx;
                lp += pow(fabs(v), 3);
            }
            double want = k == 0 ? sum / 35 : k == 1 ? mx : cbrt(lp);
            CHECK_CLOSE(((float *)r.out[0]->data)[c], want, 1e-5, 1e-6);
        }
        run_free(&r);
    }
    ot_tensor_free(x);
}

/* MaxPool's (values, Indices) unpooled put each maximum back where it was. */
static void test_maxunpool(void) {
    int64_t xd[4] = {2, 3, 6, 8};
    ot_tensor *x = rand_tensor(OT_FLOAT, 4, xd, 4);
    attr_spec at[] = {INTS("kernel_shape", 2, 2), INTS("strides", 2, 2)};
    op_run pr, ur;
    CHECK(run_op(&pr, "MaxPool", 12, 1, &x, 2, at, 2) == OT_OK);
    CHECK(run_op(&ur, "MaxUnpool", 11, 2, pr.out, 1, at, 2) == OT_OK);
    CHECK(ot_shape_equal(ur.out[0]->rank, ur.out[0]->dims, 4, xd));
    const float *xv = x->data, *u = ur.out[0]->data;
    int ok = 1, nonzero = 0;
    for (int64_t i = 0; i < 2 * 3 * 6 * 8; i++) {
        if (u[i] != 0) {
            nonzero++;
            ok &= u[i] == xv[i];
        }
    }
    CHECK(ok && nonzero == 2 * 3 * 3 * 4);

    /* output_shape larger than the grid: the grid keeps its coordinates. */
    int64_t osd[1] = {4}, os[4] = {2, 3, 7, 9};
    ot_tensor *in3[3] = {pr.out[0], pr.out[1], tensor(OT_INT64, 1, osd, os)};
    op_run r2;
    CHECK(run_op(&r2, "MaxUnpool", 22, 3, in3, 1, at, 2) == OT_OK);
    CHECK(ot_shape_equal(r2.out[0]->rank, r2.out[0]->dims, 4, os));
    ok = 1;
    for (int64_t p = 0; p < 6; p++)
        for (int64_t h = 0; h < 7; h++)
            for (int64_t w = 0; w < 9; w++) {
                float got = ((float *)r2.out[0]->data)[(p * 7 + h) * 9 + w];
                ok &= got == (h < 6 && w < 8 ? u[(p * 6 + h) * 8 + w] : 0);
            }
    CHECK(ok);
    run_free(&r2);
    os[3] = 7; /* smaller than the grid */
    memcpy(in3[2]->data, os, sizeof os);
    CHECK(run_op(&r2, "MaxUnpool", 22, 3, in3, 1, at, 2) == OT_ERR_SHAPE);
    run_free(&r2);
    ((int64_t *)pr.out[1]->data)[5] = 2 * 3 * 6 * 8; /* out of range */
    CHECK(run_op(&r2, "MaxUnpool", 22, 2, in3, 1, at, 2) == OT_ERR_INVALID_ARG);
    CHECK(strstr(ot_last_error(), "I[5]") != NULL);
    run_free(&r2);
    ot_tensor_free(in3[2]);
    run_free(&ur);
    run_free(&pr);
    ot_tensor_free(x);
}

static void test_errors(void) {
    int64_t xd[4] = {1, 1, 4, 4};
    ot_tensor *x = rand_tensor(OT_FLOAT, 4, xd, 4);
    op_run r;
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 1, NULL, 0) == OT_ERR_PARSE); /* kernel_shape missing */
    CHECK(strstr(ot_last_error(), "mynode") && strstr(ot_last_error(), "kernel_shape"));
    run_free(&r);
    attr_spec k3[] = {INTS("kernel_shape", 2, 2, 2)};
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 1, k3, 1) == OT_ERR_SHAPE); /* rank mismatch */
    run_free(&r);
    attr_spec big[] = {INTS("kernel_shape", 6, 2)};
    CHECK(run_op(&r, "AveragePool", 12, 1, &x, 1, big, 1) == OT_ERR_SHAPE); /* kernel larger than input */
    CHECK(strstr(ot_last_error(), "mynode") != NULL);
    run_free(&r);
    attr_spec badp[] = {INTS("kernel_shape", 2, 2), INTS("pads", 1, 1)};
    CHECK(run_op(&r, "AveragePool", 12, 1, &x, 1, badp, 2) == OT_ERR_PARSE);
    run_free(&r);
    attr_spec so[] = {INTS("kernel_shape", 2, 2), INT("storage_order", 2)};
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 1, so, 2) == OT_ERR_PARSE);
    run_free(&r);
    attr_spec k4[] = {INTS("kernel_shape", 1, 1, 1, 1)};
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 1, k4, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    ot_tensor_free(x);
    int64_t id[4] = {1, 1, 4, 4};
    x = tensor(OT_INT8, 4, id, NULL);
    attr_spec k2[] = {INTS("kernel_shape", 2, 2)};
    CHECK(run_op(&r, "AveragePool", 12, 1, &x, 1, k2, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    CHECK(run_op(&r, "MaxPool", 12, 1, &x, 1, k2, 1) == OT_OK);
    run_free(&r);
    ot_tensor_free(x);
}

int main(void) {
    test_windows_vs_reference();
    test_onnx_examples();
    test_maxpool_nan_and_int();
    test_global();
    test_maxunpool();
    test_errors();
    return check_done();
}
