/* Reductions: every Reduce* op over every subset of axes (both kernel forms,
   chunked partial sums, the scalar path for float16 / integers), the opset
   rules for `axes`, empty sets, NaN / inf handling, thread-count independence;
   ArgMax / ArgMin and CumSum against naive loops; and error cases. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define OP_HARNESS_SEED 0x2545F4914F6CDD1Dull
#include "kernels/cpu/reduce.h"
#include "op_harness.h"

static ot_tensor *i64_tensor(int n, const int64_t *v) {
    ot_tensor *t;
    int64_t d[1] = {n};
    ot_tensor_new(OT_INT64, 1, d, &t);
    if (n) memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
    return t;
}

/* ---- Reduce* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    ot_reduce_op op;
} reduce_ops[] = {
    {"ReduceSum", OT_REDUCE_SUM},   {"ReduceMean", OT_REDUCE_MEAN}, {"ReduceMax", OT_REDUCE_MAX},
    {"ReduceMin", OT_REDUCE_MIN},   {"ReduceProd", OT_REDUCE_PROD}, {"ReduceL1", OT_REDUCE_L1},
    {"ReduceL2", OT_REDUCE_L2},     {"ReduceLogSum", OT_REDUCE_LOG_SUM},
    {"ReduceLogSumExp", OT_REDUCE_LOG_SUM_EXP}, {"ReduceSumSquare", OT_REDUCE_SUM_SQUARE},
};

/* Output index of input element i: the kept coordinates, row-major. */
static int64_t out_index(int rank, const int64_t *dims, const bool *mask, int64_t i) {
    int64_t o = 0, mul = 1;
    for (int d = rank - 1; d >= 0; d--) {
        int64_t c = i % dims[d];
        i /= dims[d];
        if (!mask[d]) {
            o += c * mul;
            mul *= dims[d];
        }
    }
    return o;
}

static void naive_reduce(ot_reduce_op op, const ot_tensor *x, const bool *mask, double *out, int64_t O) {
    int64_t n = ot_tensor_numel(x), R = O ? n / O : 0;
    double *m = malloc(sizeof(double) * (size_t)(O ? O : 1));
    for (int64_t o = 0; o < O; o++) {
        m[o] = -INFINITY;
        out[o] = op == OT_REDUCE_PROD ? 1 : op == OT_REDUCE_MAX ? -INFINITY : op == OT_REDUCE_MIN ? INFINITY : 0;
    }
    int64_t *oi = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        oi[i] = out_index(x->rank, x->dims, mask, i);
        m[oi[i]] = fmax(m[oi[i]], at(x, i));
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t o = oi[i];
        double v = at(x, i);
        switch (op) {
        case OT_REDUCE_MAX: out[o] = fmax(out[o], v); break;
        case OT_REDUCE_MIN: out[o] = fmin(out[o], v); break;
        case OT_REDUCE_PROD: out[o] *= v; break;
        case OT_REDUCE_L1: out[o] += fabs(v); break;
        case OT_REDUCE_L2: case OT_REDUCE_SUM_SQUARE: out[o] += v * v; break;
        case OT_REDUCE_LOG_SUM_EXP: out[o] += exp(v - m[o]); break;
        default: out[o] += v; break;
        }
    }
    for (int64_t o = 0; o < O; o++) {
        if (op == OT_REDUCE_MEAN) out[o] /= (double)R;
        if (op == OT_REDUCE_L2) out[o] = sqrt(out[o]);
        if (op == OT_REDUCE_LOG_SUM) out[o] = log(out[o]);
        if (op == OT_REDUCE_LOG_SUM_EXP) out[o] = log(out[o]) + m[o];
    }
    free(m);
    free(oi);
}

/* Runs op over the axes in `mask` (through the attribute or the input as the
   opset requires) and compares with the naive loop. */
static void check_reduce(int k, ot_dtype dt, int64_t opset, int rank, const int64_t *dims, unsigned mask_bits,
                         bool keepdims, double tol) {
    bool mask[OT_MAX_RANK];
    int64_t axes[OT_MAX_RANK];
    int na = 0;
    for (int d = 0; d < rank; d++) {
        mask[d] = (mask_bits >> d) & 1;
        if (mask[d]) axes[na++] = (next_u64() & 1) ? d - rank : d; /* negative axes too */
    }
    if (na == 0)
        for (int d = 0; d < rank; d++) mask[d] = true; /* empty axes: all */
    bool as_input = opset >= (reduce_ops[k].op == OT_REDUCE_SUM ? 13 : 18);
    ot_tensor *in[2] = {rand_tensor(dt, rank, dims, 2), as_input ? i64_tensor(na, axes) : NULL};
    attr_spec a[2] = {INT("keepdims", keepdims), attr_ints("axes", na, axes)};
    op_run r;
    ot_status s = run_op(&r, reduce_ops[k].name, opset, as_input ? 2 : 1, in, 1, a, as_input ? 1 : 2);
    CHECK_MSG(s == OT_OK, "%s: %s", reduce_ops[k].name, ot_last_error());
    int64_t R = 1;
    for (int d = 0; d < rank; d++) R *= mask[d] ? dims[d] : 1;
    if (!ot_dtype_is_float(dt) && reduce_ops[k].op == OT_REDUCE_PROD && R > 12) s = OT_ERR_INTERNAL; /* wraps */
    if (s == OT_OK) {
        int64_t O = 1;
        int orank = 0;
        bool shape_ok = true;
        for (int d = 0; d < rank; d++) {
            if (!mask[d]) O *= dims[d];
            if (!mask[d] || keepdims) shape_ok &= r.out[0]->dims[orank++] == (mask[d] ? 1 : dims[d]);
        }
        CHECK(shape_ok && r.out[0]->rank == orank && r.out[0]->dtype == dt);
        double *want = malloc(sizeof(double) * (size_t)O);
        naive_reduce(reduce_ops[k].op, in[0], mask, want, O);
        if (!ot_dtype_is_float(dt))
            for (int64_t o = 0; o < O; o++) want[o] = want[o] < 0 ? ceil(want[o]) : floor(want[o]);
        char what[96];
        snprintf(what, sizeof what, "%s %s mask %x", reduce_ops[k].name, ot_dtype_name(dt), mask_bits);
        check_all(what, r.out[0], want, O, tol);
        free(want);
    }
    run_free(&r);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

static void test_reduce_all_axes(void) {
    int64_t d4[4] = {3, 4, 5, 6};
    for (int k = 0; k < 10; k++)
        for (unsigned m = 0; m < 16; m++) {
            check_reduce(k, OT_FLOAT, 18, 4, d4, m, m & 1, 1e-5);
            check_reduce(k, OT_DOUBLE, 13, 4, d4, m, !(m & 1), 1e-12);
            check_reduce(k, OT_DOUBLE, 11, 4, d4, m, 1, 1e-12);
        }
    /* Scalar path: float16, bfloat16, integers. */
    int64_t d3[3] = {4, 3, 5};
    for (int k = 0; k < 10; k++)
        for (unsigned m = 0; m < 8; m++) {
            check_reduce(k, OT_FLOAT16, 18, 3, d3, m, 1, 1e-2);
            check_reduce(k, OT_BFLOAT16, 18, 3, d3, m, 0, 2e-2);
            if (reduce_ops[k].op == OT_REDUCE_LOG_SUM || reduce_ops[k].op == OT_REDUCE_LOG_SUM_EXP) continue;
            check_reduce(k, OT_INT32, 18, 3, d3, m, 1, 0);
            check_reduce(k, OT_INT64, 18, 3, d3, m, 0, 0);
            check_reduce(k, OT_UINT32, 18, 3, d3, m, 0, 0);
        }
    for (unsigned m = 0; m < 8; m++) {
        check_reduce(2, OT_BOOL, 20, 3, d3, m, 1, 0);
        check_reduce(3, OT_BOOL, 20, 3, d3, m, 1, 0);
        check_reduce(2, OT_INT8, 18, 3, d3, m, 1, 0);
        check_reduce(3, OT_UINT8, 18, 3, d3, m, 1, 0);
    }
}

/* Shapes that take the chunked partial-state paths and multi-block form B. */
static void test_reduce_big(void) {
    static const struct {
        int rank;
        int64_t dims[3];
        unsigned mask;
    } cases[] = {
        {2, {2, 20000}, 2},   {2, {20000, 3}, 1},  {3, {8, 16, 300}, 5}, {2, {1, 60000}, 3},
        {3, {100, 7, 40}, 2}, {2, {3000, 200}, 1}, {3, {3, 20000, 2}, 2}, {3, {40, 3, 300}, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int k = 0; k < 10; k++) {
            if (reduce_ops[k].op == OT_REDUCE_PROD) continue; /* under/overflows at this size */
            check_reduce(k, OT_FLOAT, 18, cases[c].rank, cases[c].dims, cases[c].mask, 1, 2e-5);
            if (k % 3 == 0) check_reduce(k, OT_DOUBLE, 18, cases[c].rank, cases[c].dims, cases[c].mask, 0, 1e-11);
        }
}

static void test_reduce_special(void) {
    /* Empty sets: identities; a zero-size kept axis: an empty output. */
    int64_t dz[3] = {2, 0, 4}, ax1[1] = {1}, ax2[1] = {2};
    const double ident[10] = {0, NAN, -INFINITY, INFINITY, 1, 0, 0, -INFINITY, -INFINITY, 0};
    for (int k = 0; k < 10; k++) {
        ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 3, dz, 1), i64_tensor(1, ax1)};
        op_run r;
        CHECK(run_op(&r, reduce_ops[k].name, 18, 2, in, 1, NULL, 0) == OT_OK);
        CHECK(r.out[0]->rank == 3 && r.out[0]->dims[1] == 1 && ot_tensor_numel(r.out[0]) == 8);
        double want[8];
        for (int i = 0; i < 8; i++) want[i] = ident[k];
        check_all(reduce_ops[k].name, r.out[0], want, 8, 0);
        run_free(&r);
        ot_tensor_free(in[1]);
        in[1] = i64_tensor(1, ax2);
        CHECK(run_op(&r, reduce_ops[k].name, 18, 2, in, 1, NULL, 0) == OT_OK);
        CHECK(r.out[0]->rank == 3 && r.out[0]->dims[1] == 0 && r.out[0]->dims[2] == 1);
        run_free(&r);
        ot_tensor_free(in[0]);
        ot_tensor_free(in[1]);
    }
    int32_t iz[2];
    ot_cpu_reduce(OT_REDUCE_MAX, OT_INT32, NULL, iz, 3, dz, (bool[]){false, true, true});
    CHECK(iz[0] == INT32_MIN && iz[1] == INT32_MIN);

    /* noop_with_empty_axes: no reduction, but the elementwise part stays. */
    int64_t d2[2] = {2, 3};
    float xv[6] = {1, 2, 3, 4, 5, 6};
    const char *names[3] = {"ReduceLogSum", "ReduceSumSquare", "ReduceSum"};
    for (int k = 0; k < 3; k++) {
        ot_tensor *in[2] = {NULL, i64_tensor(0, NULL)};
        ot_tensor_new(OT_FLOAT, 2, d2, &in[0]);
        memcpy(in[0]->data, xv, sizeof xv);
        attr_spec a[1] = {INT("noop_with_empty_axes", 1)};
        op_run r;
        CHECK(run_op(&r, names[k], 18, 2, in, 1, a, 1) == OT_OK);
        CHECK(r.out[0]->rank == 2 && r.out[0]->dims[0] == 2 && r.out[0]->dims[1] == 3);
        double want[6];
        for (int i = 0; i < 6; i++) want[i] = k == 0 ? log(xv[i]) : k == 1 ? xv[i] * xv[i] : xv[i];
        check_all(names[k], r.out[0], want, 6, 1e-6);
        run_free(&r);
        /* Without the axes input at all: the same. */
        CHECK(run_op(&r, names[k], 18, 1, in, 1, a, 1) == OT_OK && ot_tensor_numel(r.out[0]) == 6);
        run_free(&r);
        ot_tensor_free(in[0]);
        ot_tensor_free(in[1]);
    }

    /* NaN propagates through max/min in both kernel forms; inf through LSE. */
    float xn[2][4] = {{1, NAN, 3, 4}, {-INFINITY, -INFINITY, -INFINITY, -INFINITY}}, yn[4];
    int64_t dn[2] = {2, 4};
    ot_cpu_reduce(OT_REDUCE_MAX, OT_FLOAT, xn, yn, 2, dn, (bool[]){false, true});
    CHECK(isnan(yn[0]) && isinf(yn[1]) && yn[1] < 0);
    ot_cpu_reduce(OT_REDUCE_MIN, OT_FLOAT, xn, yn, 2, dn, (bool[]){true, false});
    CHECK(yn[0] == -INFINITY && isnan(yn[1]));
    ot_cpu_reduce(OT_REDUCE_LOG_SUM_EXP, OT_FLOAT, xn, yn, 2, dn, (bool[]){false, true});
    CHECK(isnan(yn[0]) && yn[1] == -INFINITY);
    float xl[2][3] = {{1000, 1000, 999}, {INFINITY, 1, 2}};
    ot_cpu_reduce(OT_REDUCE_LOG_SUM_EXP, OT_FLOAT, xl, yn, 2, (int64_t[]){2, 3}, (bool[]){false, true});
    CHECK_CLOSE(yn[0], 1000 + log(2 + exp(-1.0)), 1e-6, 0);
    CHECK(isinf(yn[1]) && yn[1] > 0);

    /* Integers are exact in 64 bits. */
    int64_t big[3] = {(int64_t)1 << 60, 3, -((int64_t)1 << 59)}, ys;
    ot_cpu_reduce(OT_REDUCE_SUM, OT_INT64, big, &ys, 1, (int64_t[]){3}, (bool[]){true});
    CHECK(ys == ((int64_t)1 << 59) + 3);
    uint64_t ub[3] = {UINT64_MAX - 5, 7, UINT64_MAX - 1}, um;
    ot_cpu_reduce(OT_REDUCE_MAX, OT_UINT64, ub, &um, 1, (int64_t[]){3}, (bool[]){true});
    CHECK(um == UINT64_MAX - 1);
    ot_cpu_reduce(OT_REDUCE_MIN, OT_UINT64, ub, &um, 1, (int64_t[]){3}, (bool[]){true});
    CHECK(um == 7);
    int32_t im[4] = {-7, 2, 0, 0}, imean;
    ot_cpu_reduce(OT_REDUCE_MEAN, OT_INT32, im, &imean, 1, (int64_t[]){4}, (bool[]){true});
    CHECK(imean == -1); /* -5 / 4 truncates toward zero */

    /* Rank-0 input: reducing "all" axes of a scalar is the identity. */
    ot_tensor *s0;
    ot_tensor_new(OT_FLOAT, 0, NULL, &s0);
    ((float *)s0->data)[0] = -2.5f;
    op_run r;
    CHECK(run_op(&r, "ReduceL1", 18, 1, &s0, 1, NULL, 0) == OT_OK && r.out[0]->rank == 0);
    CHECK(((float *)r.out[0]->data)[0] == 2.5f);
    run_free(&r);
    ot_tensor_free(s0);
}

static void test_reduce_errors(void) {
    int64_t d[3] = {2, 3, 4}, dup[2] = {1, -2}, far[1] = {3};
    ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 3, d, 1), i64_tensor(2, dup)};
    op_run r;
    CHECK(run_op(&r, "ReduceMax", 18, 2, in, 1, NULL, 0) == OT_ERR_SHAPE && strstr(ot_last_error(), "twice"));
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = i64_tensor(1, far);
    CHECK(run_op(&r, "ReduceSum", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE && strstr(ot_last_error(), "axis 3"));
    run_free(&r);
    attr_spec a[1] = {INTS("axes", 0)};
    CHECK(run_op(&r, "ReduceSum", 13, 1, in, 1, a, 1) == OT_ERR_PARSE); /* attribute after opset 13 */
    run_free(&r);
    CHECK(run_op(&r, "ReduceMean", 13, 1, in, 1, a, 1) == OT_OK); /* still an attribute at 13 */
    run_free(&r);
    attr_spec noop[1] = {INT("noop_with_empty_axes", 1)};
    CHECK(run_op(&r, "ReduceMean", 13, 1, in, 1, noop, 1) == OT_ERR_PARSE);
    run_free(&r);
    ot_tensor_free(in[0]);
    in[0] = rand_tensor(OT_BOOL, 3, d, 1);
    CHECK(run_op(&r, "ReduceSum", 13, 1, in, 1, NULL, 0) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    CHECK(run_op(&r, "ReduceMax", 20, 1, in, 1, NULL, 0) == OT_OK);
    run_free(&r);
    /* The axes value must be known when compiling. */
    ot_tensor_free(in[0]);
    in[0] = rand_tensor(OT_FLOAT, 3, d, 1);
    ot_tensor *unknown;
    ot_tensor_new_desc(OT_INT64, 1, (int64_t[]){1}, &unknown);
    ot_tensor *in2[2] = {in[0], unknown};
    CHECK(run_op(&r, "ReduceSum", 13, 2, in2, 1, NULL, 0) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(unknown);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

/* Fixed partitions: bit-identical results for any thread count. */
static void test_reduce_determinism(void) {
    int64_t d1[2] = {1, 1 << 20}, d2[2] = {1 << 16, 16};
    ot_tensor *a = rand_tensor(OT_FLOAT, 2, d1, 1), *b = rand_tensor(OT_FLOAT, 2, d2, 1);
    float ra[2], rb[2][16];
    int before = omp_get_max_threads();
    for (int k = 0; k < 2; k++) {
        omp_set_num_threads(k ? 3 : 1);
        ot_cpu_reduce(OT_REDUCE_SUM, OT_FLOAT, a->data, &ra[k], 2, d1, (bool[]){true, true});
        ot_cpu_reduce(OT_REDUCE_SUM, OT_FLOAT, b->data, rb[k], 2, d2, (bool[]){true, false});
    }
    omp_set_num_threads(before);
    CHECK(ra[0] == ra[1]);
    CHECK(!memcmp(rb[0], rb[1], sizeof rb[0]));
    ot_tensor_free(a);
    ot_tensor_free(b);
}

/* ---- ArgMax / ArgMin ------------------------------------------------------------------ */

static void check_arg(const char *op, ot_dtype dt, int rank, const int64_t *dims, int64_t axis, bool keep,
                      bool last) {
    ot_tensor *x = rand_tensor(dt, rank, dims, 3);
    if (ot_dtype_is_float(dt)) /* force ties: round to a coarse grid */
        for (int64_t i = 0; i < ot_tensor_numel(x); i++) ot_store_f64(dt, x->data, i, round(at(x, i)));
    attr_spec a[3] = {INT("axis", axis), INT("keepdims", keep), INT("select_last_index", last)};
    op_run r;
    ot_status s = run_op(&r, op, 13, 1, &x, 1, a, 3);
    CHECK_MSG(s == OT_OK, "%s: %s", op, ot_last_error());
    if (s == OT_OK) {
        int ax = (int)(axis < 0 ? axis + rank : axis);
        int64_t outer = 1, inner = 1, n = dims[ax];
        for (int i = 0; i < ax; i++) outer *= dims[i];
        for (int i = ax + 1; i < rank; i++) inner *= dims[i];
        CHECK(r.out[0]->dtype == OT_INT64 && r.out[0]->rank == (keep ? rank : rank - 1));
        bool mx = !strcmp(op, "ArgMax");
        int bad = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < inner; j++) {
                int64_t best = 0;
                for (int64_t c = 1; c < n; c++) {
                    double v = at(x, (o * n + c) * inner + j), b = at(x, (o * n + best) * inner + j);
                    if (mx ? (v > b || (last && v == b)) : (v < b || (last && v == b))) best = c;
                }
                if (((int64_t *)r.out[0]->data)[o * inner + j] != best) bad++;
            }
        CHECK_MSG(!bad, "%s %s axis %lld last %d: %d wrong", op, ot_dtype_name(dt), (long long)axis, last, bad);
    }
    run_free(&r);
    ot_tensor_free(x);
}

static void test_argreduce(void) {
    int64_t d3[3] = {4, 5, 300};
    ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_INT32, OT_UINT8, OT_INT64, OT_UINT64, OT_INT8};
    for (int op = 0; op < 2; op++)
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            for (int64_t axis = -3; axis < 3; axis++)
                for (int v = 0; v < 4; v++) check_arg(op ? "ArgMin" : "ArgMax", types[t], 3, d3, axis, v & 1, v & 2);
    /* NaN is the extreme value, first (or last) NaN wins. */
    float xn[5] = {1, NAN, 9, NAN, -9};
    int64_t y;
    ot_cpu_argreduce(true, false, OT_FLOAT, xn, &y, 1, 5, 1);
    CHECK(y == 1);
    ot_cpu_argreduce(false, true, OT_FLOAT, xn, &y, 1, 5, 1);
    CHECK(y == 3);
    /* Defaults: axis 0, keepdims 1. */
    int64_t d2[2] = {3, 2};
    ot_tensor *x = rand_tensor(OT_FLOAT, 2, d2, 1);
    op_run r;
    CHECK(run_op(&r, "ArgMax", 11, 1, &x, 1, NULL, 0) == OT_OK && r.out[0]->rank == 2 && r.out[0]->dims[0] == 1 &&
          r.out[0]->dims[1] == 2);
    run_free(&r);
    attr_spec bad[1] = {INT("axis", 2)};
    CHECK(run_op(&r, "ArgMin", 11, 1, &x, 1, bad, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(x);
}

/* ---- CumSum -------------------------------------------------------------------------- */

static void check_cumsum(ot_dtype dt, ot_dtype axis_dt, int64_t axis, bool excl, bool rev) {
    int64_t d[3] = {3, 4, 150};
    ot_tensor *in[2] = {rand_tensor(dt, 3, d, 2), NULL};
    ot_tensor_new(axis_dt, 0, NULL, &in[1]);
    ot_store_i64(axis_dt, in[1]->data, 0, axis);
    attr_spec a[2] = {INT("exclusive", excl), INT("reverse", rev)};
    op_run r;
    ot_status s = run_op(&r, "CumSum", 14, 2, in, 1, a, 2);
    CHECK_MSG(s == OT_OK, "CumSum: %s", ot_last_error());
    if (s == OT_OK) {
        int ax = (int)(axis < 0 ? axis + 3 : axis);
        int64_t outer = 1, inner = 1, n = d[ax], N = 3 * 4 * 150;
        for (int i = 0; i < ax; i++) outer *= d[i];
        for (int i = ax + 1; i < 3; i++) inner *= d[i];
        double *want = malloc(sizeof(double) * (size_t)N);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < inner; j++)
                for (int64_t c = 0; c < n; c++) {
                    double acc = 0;
                    for (int64_t k = 0; k < n; k++) {
                        bool in_range = rev ? (excl ? k > c : k >= c) : (excl ? k < c : k <= c);
                        if (in_range) acc += at(in[0], (o * n + k) * inner + j);
                    }
                    want[(o * n + c) * inner + j] = acc;
                }
        char what[64];
        snprintf(what, sizeof what, "CumSum %s axis %lld excl %d rev %d", ot_dtype_name(dt), (long long)axis, excl,
                 rev);
        check_all(what, r.out[0], want, N, dt == OT_FLOAT16 ? 2e-2 : 1e-5);
        /* In place gives the same. */
        ot_cpu_cumsum(dt, in[0]->data, in[0]->data, outer, n, inner, excl, rev);
        CHECK(!memcmp(in[0]->data, r.out[0]->data, ot_tensor_nbytes(r.out[0])));
        free(want);
    }
    run_free(&r);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

static void test_cumsum(void) {
    ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_INT32, OT_INT64, OT_UINT32, OT_FLOAT16};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int64_t axis = -3; axis < 3; axis++)
            for (int v = 0; v < 4; v++) check_cumsum(types[t], axis & 1 ? OT_INT32 : OT_INT64, axis, v & 1, v & 2);
    int64_t d[1] = {3};
    ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 1, d, 1), NULL};
    ot_tensor_new(OT_INT64, 0, NULL, &in[1]);
    ((int64_t *)in[1]->data)[0] = 1;
    op_run r;
    CHECK(run_op(&r, "CumSum", 11, 2, in, 1, NULL, 0) == OT_ERR_SHAPE && strstr(ot_last_error(), "axis 1"));
    run_free(&r);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

int main(void) {
    test_reduce_all_axes();
    test_reduce_big();
    test_reduce_special();
    test_reduce_errors();
    test_reduce_determinism();
    test_argreduce();
    test_cumsum();
    return check_done();
}
