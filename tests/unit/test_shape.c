/* Shape family: Reshape .. OneHot against hand-computed values (numpy's
   results for the tricky slices) and naive index-by-index reference loops. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/shape.h"
#include "op_harness.h"

/* Tensors with given values (converted from doubles / int64s). */
static ot_tensor *tf(ot_dtype t, int rank, const int64_t *dims, const double *v) {
    ot_tensor *x;
    ot_tensor_new(t, rank, dims, &x);
    for (int64_t i = 0; i < ot_tensor_numel(x); i++) ot_store_f64(t, x->data, i, v ? v[i] : (double)i);
    return x;
}
static ot_tensor *ti(ot_dtype t, int n, const int64_t *v) {
    ot_tensor *x;
    int64_t d = n;
    ot_tensor_new(t, 1, &d, &x);
    for (int i = 0; i < n; i++) ot_store_i64(t, x->data, i, v[i]);
    return x;
}
static ot_tensor *scalar_i64(int64_t v) {
    ot_tensor *x;
    ot_tensor_new(OT_INT64, 0, NULL, &x);
    *(int64_t *)x->data = v;
    return x;
}

static int dims_are(const ot_tensor *t, int rank, const int64_t *dims) {
    return ot_shape_equal(t->rank, t->dims, rank, dims);
}
static int values_are(const ot_tensor *t, const double *v) {
    for (int64_t i = 0; i < ot_tensor_numel(t); i++)
        if (ot_load_f64(t->dtype, t->data, i) != v[i]) {
            fprintf(stderr, "  element %lld: %g, expected %g\n", (long long)i, ot_load_f64(t->dtype, t->data, i), v[i]);
            return 0;
        }
    return 1;
}
static int iota_is(const ot_tensor *t) { /* values 0, 1, 2, ... */
    for (int64_t i = 0; i < ot_tensor_numel(t); i++)
        if (ot_load_f64(t->dtype, t->data, i) != (double)i) return 0;
    return 1;
}
/* ---- Reshape, Flatten, Squeeze, Unsqueeze ------------------------------------------------ */

static void test_reshape(void) {
    op_run r;
    int64_t xd[3] = {2, 3, 4};
    ot_tensor *x = tf(OT_FLOAT, 3, xd, NULL);
    int64_t s1[] = {0, -1};
    ot_tensor *in[2] = {x, ti(OT_INT64, 2, s1)};
    CHECK(run_op(&r, "Reshape", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){2, 12}) && iota_is(r.out[0]));
    run_free(&r);
    ot_tensor_free(in[1]);

    int64_t s2[] = {-1, 2, -1};
    in[1] = ti(OT_INT64, 3, s2);
    CHECK(run_op(&r, "Reshape", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    int64_t s3[] = {5, 5};
    in[1] = ti(OT_INT64, 2, s3);
    CHECK(run_op(&r, "Reshape", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);

    /* allowzero: a 0 stays 0 (input of 0 elements) */
    int64_t zd[2] = {0, 3};
    x = tf(OT_INT32, 2, zd, NULL);
    int64_t s4[] = {3, 0};
    in[0] = x;
    in[1] = ti(OT_INT64, 2, s4);
    attr_spec az = INT("allowzero", 1);
    CHECK(run_op(&r, "Reshape", 14, 2, in, 1, &az, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){3, 0}));
    run_free(&r);
    /* without allowzero the 0 copies input dim 1 (3): 9 elements != 0 */
    CHECK(run_op(&r, "Reshape", 14, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);

    /* the shape value is unknown at compile time: infer asks for it */
    x = tf(OT_FLOAT, 3, xd, NULL);
    ot_tensor *sd;
    int64_t two = 2;
    ot_tensor_new_desc(OT_INT64, 1, &two, &sd);
    in[0] = x;
    in[1] = sd;
    CHECK(run_op_x(&r, "Reshape", 13, 2, in, 1, NULL, 0, &(run_opts){.infer_only = true}) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(sd);
    ot_tensor_free(x);
}

static void test_flatten_squeeze(void) {
    op_run r;
    int64_t xd[4] = {2, 3, 1, 5};
    ot_tensor *x = tf(OT_UINT8, 4, xd, NULL);
    struct { int64_t axis, d0, d1; } cases[] = {{0, 1, 30}, {2, 6, 5}, {-1, 6, 5}, {4, 30, 1}};
    for (int i = 0; i < 4; i++) {
        attr_spec a = INT("axis", cases[i].axis);
        CHECK(run_op(&r, "Flatten", 13, 1, &x, 1, &a, 1) == OT_OK);
        CHECK(dims_are(r.out[0], 2, (int64_t[]){cases[i].d0, cases[i].d1}) && iota_is(r.out[0]));
        run_free(&r);
    }
    /* Squeeze: attribute before 13, input after, all unit dims when absent */
    int64_t ax[] = {-2};
    attr_spec sa = attr_ints("axes", 1, ax);
    CHECK(run_op(&r, "Squeeze", 11, 1, &x, 1, &sa, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 3, 5}) && iota_is(r.out[0]));
    run_free(&r);
    CHECK(run_op(&r, "Squeeze", 13, 1, &x, 1, &sa, 1) == OT_ERR_PARSE);
    run_free(&r);
    ot_tensor *in[2] = {x, ti(OT_INT64, 1, ax)};
    CHECK(run_op(&r, "Squeeze", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 3, 5}));
    run_free(&r);
    CHECK(run_op(&r, "Squeeze", 13, 1, &x, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 3, 5}));
    run_free(&r);
    ot_tensor_free(in[1]);
    int64_t bad[] = {0};
    in[1] = ti(OT_INT64, 1, bad);
    CHECK(run_op(&r, "Squeeze", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);

    /* Unsqueeze: axes against the output rank, unsorted, negative */
    int64_t ua[] = {5, 0, -3};
    in[1] = ti(OT_INT64, 3, ua);
    CHECK(run_op(&r, "Unsqueeze", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 7, (int64_t[]){1, 2, 3, 1, 1, 1, 5}) && iota_is(r.out[0]));
    run_free(&r);
    attr_spec uattr = attr_ints("axes", 3, ua);
    CHECK(run_op(&r, "Unsqueeze", 11, 1, &x, 1, &uattr, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 7, (int64_t[]){1, 2, 3, 1, 1, 1, 5}));
    run_free(&r);
    ot_tensor_free(in[1]);
    int64_t dup[] = {1, 1};
    in[1] = ti(OT_INT64, 2, dup);
    CHECK(run_op(&r, "Unsqueeze", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);
}

/* ---- Transpose ------------------------------------------------------------------------ */

static void check_transpose(ot_dtype t, int rank, const int64_t *dims, const int64_t *perm) {
    op_run r;
    ot_tensor *x;
    ot_tensor_new(t, rank, dims, &x);
    size_t es = ot_dtype_size(t);
    unsigned char *xb = x->data;
    for (size_t i = 0; i < ot_tensor_nbytes(x); i++) xb[i] = (unsigned char)(i * 131 + i / 7);
    attr_spec a = attr_ints("perm", rank, perm);
    CHECK(run_op(&r, "Transpose", 13, 1, &x, 1, &a, 1) == OT_OK);
    const ot_tensor *y = r.out[0];
    int ok = 1;
    int64_t yi[OT_MAX_RANK], xi[OT_MAX_RANK];
    for (int k = 0; k < rank; k++) ok &= y->dims[k] == dims[perm[k]];
    for (int64_t i = 0; ok && i < ot_tensor_numel(y); i++) {
        unravel(i, rank, y->dims, yi);
        for (int k = 0; k < rank; k++) xi[perm[k]] = yi[k];
        ok &= !memcmp((char *)y->data + i * (int64_t)es, xb + ravel(rank, dims, xi) * (int64_t)es, es);
    }
    CHECK_MSG(ok, "transpose of %s, rank %d", ot_dtype_name(t), rank);
    run_free(&r);
    ot_tensor_free(x);
}

static void test_transpose(void) {
    int64_t d4[] = {2, 3, 4, 5};
    int64_t perms[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 3, 2}, {2, 0, 3, 1}};
    for (int p = 0; p < 6; p++) check_transpose(OT_FLOAT, 4, d4, perms[p]);
    /* batched 2-D transposes through the tiled path, every element size */
    int64_t d3[] = {3, 67, 45};
    ot_dtype types[] = {OT_BOOL, OT_FLOAT16, OT_FLOAT, OT_DOUBLE, OT_COMPLEX128};
    for (int t = 0; t < 5; t++) check_transpose(types[t], 3, d3, (int64_t[]){0, 2, 1});
    int64_t big[] = {8, 300, 200};
    check_transpose(OT_FLOAT, 3, big, (int64_t[]){0, 2, 1});
    check_transpose(OT_FLOAT, 3, big, (int64_t[]){2, 0, 1});
    int64_t d2[] = {1, 1};
    check_transpose(OT_INT64, 2, d2, (int64_t[]){1, 0});
    int64_t dz[] = {0, 3};
    check_transpose(OT_INT64, 2, dz, (int64_t[]){1, 0});
    /* default perm reverses; a bad perm is rejected */
    op_run r;
    ot_tensor *x = tf(OT_FLOAT, 3, d3, NULL);
    CHECK(run_op(&r, "Transpose", 13, 1, &x, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){45, 67, 3}));
    run_free(&r);
    attr_spec a = INTS("perm", 0, 0, 1);
    CHECK(run_op(&r, "Transpose", 13, 1, &x, 1, &a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(x);
}

/* ---- Concat, Split ---------------------------------------------------------------------- */

static void test_concat_split(void) {
    op_run r;
    ot_tensor *in[3];
    int64_t d[3][2] = {{2, 1}, {2, 3}, {2, 0}};
    for (int i = 0; i < 3; i++) in[i] = tf(OT_DOUBLE, 2, d[i], NULL);
    ot_store_f64(OT_DOUBLE, in[0]->data, 0, 10);
    ot_store_f64(OT_DOUBLE, in[0]->data, 1, 11);
    attr_spec a = INT("axis", -1);
    CHECK(run_op(&r, "Concat", 13, 3, in, 1, &a, 1) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){2, 4}));
    CHECK(values_are(r.out[0], (double[]){10, 0, 1, 2, 11, 3, 4, 5}));
    run_free(&r);
    CHECK(run_op(&r, "Concat", 13, 3, in, 1, NULL, 0) == OT_ERR_PARSE);
    run_free(&r);
    a.i = 0;
    CHECK(run_op(&r, "Concat", 13, 3, in, 1, &a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);

    /* Split: opset 18 uneven chunks along axis 1 of (2, 7): 3, 3, 1 */
    int64_t xd[2] = {2, 7};
    ot_tensor *x = tf(OT_INT16, 2, xd, NULL);
    attr_spec sa[2] = {INT("axis", 1), INT("num_outputs", 3)};
    CHECK(run_op(&r, "Split", 18, 1, &x, 3, sa, 2) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){2, 3}) && dims_are(r.out[2], 2, (int64_t[]){2, 1}));
    CHECK(values_are(r.out[1], (double[]){3, 4, 5, 10, 11, 12}));
    CHECK(values_are(r.out[2], (double[]){6, 13}));
    run_free(&r);
    /* opset 13 without sizes: must be even */
    CHECK(run_op(&r, "Split", 13, 1, &x, 3, sa, 1) == OT_ERR_SHAPE);
    run_free(&r);
    /* explicit sizes as input (13) and as attribute (11), with a 0 */
    int64_t sz[] = {2, 0, 5};
    ot_tensor *in2[2] = {x, ti(OT_INT64, 3, sz)};
    CHECK(run_op(&r, "Split", 13, 2, in2, 3, sa, 1) == OT_OK);
    CHECK(dims_are(r.out[1], 2, (int64_t[]){2, 0}));
    CHECK(values_are(r.out[2], (double[]){2, 3, 4, 5, 6, 9, 10, 11, 12, 13}));
    run_free(&r);
    attr_spec sattr[2] = {sa[0], attr_ints("split", 3, sz)};
    CHECK(run_op(&r, "Split", 11, 1, &x, 3, sattr, 2) == OT_OK);
    CHECK(values_are(r.out[0], (double[]){0, 1, 7, 8}));
    run_free(&r);
    CHECK(run_op(&r, "Split", 13, 1, &x, 3, sattr, 2) == OT_ERR_PARSE);
    run_free(&r);
    attr_spec both[2] = {sa[0], INT("num_outputs", 3)};
    CHECK(run_op(&r, "Split", 18, 2, in2, 3, both, 2) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in2[1]);
    int64_t bad[] = {2, 2, 2};
    in2[1] = ti(OT_INT64, 3, bad);
    CHECK(run_op(&r, "Split", 13, 2, in2, 3, sa, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in2[1]);
    ot_tensor_free(x);
}

/* ---- Slice ------------------------------------------------------------------------------- */

static void test_slice(void) {
    op_run r;
    int64_t n = 10;
    ot_tensor *x = tf(OT_INT64, 1, &n, NULL); /* arange(10) */
    /* (start, end, step) and numpy's x[start:end:step] */
    struct { int64_t s, e, st; int cnt; double v[10]; } cases[] = {
        {8, 1, -3, 3, {8, 5, 2}},
        {INT64_MAX, INT64_MIN, -1, 10, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
        {-100, 100, 4, 3, {0, 4, 8}},
        {-1, -11, -2, 5, {9, 7, 5, 3, 1}},
        {3, 3, 1, 0, {0}},
        {5, 2, 1, 0, {0}},
        {0, INT64_MAX, INT64_MAX, 1, {0}},
        {9, INT64_MIN, INT64_MIN, 1, {9}},
        {20, 0, -1, 9, {9, 8, 7, 6, 5, 4, 3, 2, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ot_tensor *in[5] = {x, ti(OT_INT64, 1, &cases[i].s), ti(OT_INT64, 1, &cases[i].e), ti(OT_INT32, 1, (int64_t[]){0}),
                            ti(OT_INT64, 1, &cases[i].st)};
        CHECK_MSG(run_op(&r, "Slice", 13, 5, in, 1, NULL, 0) == OT_OK, "case %zu", i);
        CHECK_MSG(r.out[0]->dims[0] == cases[i].cnt && values_are(r.out[0], cases[i].v), "case %zu", i);
        run_free(&r);
        for (int k = 1; k < 5; k++) ot_tensor_free(in[k]);
    }
    ot_tensor_free(x);

    /* 3-D against a naive loop: axes given out of order, default steps */
    int64_t xd[3] = {4, 5, 6};
    x = tf(OT_FLOAT, 3, xd, NULL);
    int64_t st[] = {-1, 1}, en[] = {-100, -1}, ax[] = {2, 0}, sp[] = {-2, 2};
    ot_tensor *in[5] = {x, ti(OT_INT64, 2, st), ti(OT_INT64, 2, en), ti(OT_INT64, 2, ax), ti(OT_INT64, 2, sp)};
    CHECK(run_op(&r, "Slice", 13, 5, in, 1, NULL, 0) == OT_OK);
    /* axis 0: start 1, end -1 -> 3, step 2: index 1 only; axis 2: indices 5, 3, 1 */
    CHECK(dims_are(r.out[0], 3, (int64_t[]){1, 5, 3}));
    int ok = 1;
    const float *y = r.out[0]->data;
    for (int j = 0; j < 5; j++)
        for (int k = 0; k < 3; k++) ok &= y[j * 3 + k] == (float)(1 * 30 + j * 6 + (5 - 2 * k));
    CHECK(ok);
    run_free(&r);
    /* steps 0 and a repeated axis are errors */
    ot_tensor_free(in[4]);
    in[4] = ti(OT_INT64, 2, (int64_t[]){1, 0});
    CHECK(run_op(&r, "Slice", 13, 5, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[3]);
    in[3] = ti(OT_INT64, 2, (int64_t[]){0, -3});
    CHECK(run_op(&r, "Slice", 13, 4, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    for (int k = 1; k < 5; k++) ot_tensor_free(in[k]);
    /* opset 1: attributes */
    attr_spec a[3] = {INTS("starts", 1, 2), INTS("ends", 1000, 4), INTS("axes", 1, 2)};
    CHECK(run_op(&r, "Slice", 9, 1, &x, 1, a, 3) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){4, 4, 2}));
    CHECK(((float *)r.out[0]->data)[3] == 6 + 6 + 3);
    run_free(&r);
    ot_tensor_free(x);
}

/* ---- Expand, Tile --------------------------------------------------------------------------- */

static void test_expand_tile(void) {
    op_run r;
    int64_t xd[2] = {3, 1};
    ot_tensor *x = tf(OT_FLOAT16, 2, xd, NULL);
    ot_tensor *in[2] = {x, ti(OT_INT64, 3, (int64_t[]){2, 1, 4})};
    CHECK(run_op(&r, "Expand", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 3, 4}));
    CHECK(values_are(r.out[0], (double[]){0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = ti(OT_INT64, 1, (int64_t[]){2});
    CHECK(run_op(&r, "Expand", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){3, 2}));
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = ti(OT_INT64, 2, (int64_t[]){2, 1});
    CHECK(run_op(&r, "Expand", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);

    int64_t td[3] = {2, 3, 2};
    x = tf(OT_INT32, 3, td, NULL);
    int64_t reps[3] = {2, 1, 3};
    in[0] = x;
    in[1] = ti(OT_INT64, 3, reps);
    CHECK(run_op(&r, "Tile", 13, 2, in, 1, NULL, 0) == OT_OK);
    const ot_tensor *y = r.out[0];
    CHECK(dims_are(y, 3, (int64_t[]){4, 3, 6}));
    int ok = 1;
    int64_t yi[3], xi[3];
    for (int64_t i = 0; i < ot_tensor_numel(y); i++) {
        unravel(i, 3, y->dims, yi);
        for (int k = 0; k < 3; k++) xi[k] = yi[k] % td[k];
        ok &= ((int32_t *)y->data)[i] == ravel(3, td, xi);
    }
    CHECK(ok);
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = ti(OT_INT64, 3, (int64_t[]){1, 0, 1});
    CHECK(run_op(&r, "Tile", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 0, 2}));
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(x);
}

/* ---- Pad ------------------------------------------------------------------------------------ */

/* numpy.pad's index rule written as repeated mirroring, for the reference. */
static int64_t ref_pad_index(int64_t i, int64_t n, const char *mode) {
    if (!strcmp(mode, "edge")) return i < 0 ? 0 : i >= n ? n - 1 : i;
    if (!strcmp(mode, "wrap")) {
        while (i < 0) i += n;
        return i % n;
    }
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

static void check_pad(const char *mode, int rank, const int64_t *dims, const int64_t *pads) {
    op_run r;
    ot_tensor *x = tf(OT_DOUBLE, rank, dims, NULL);
    double cv = -7.5;
    ot_tensor *v;
    ot_tensor_new(OT_DOUBLE, 0, NULL, &v);
    *(double *)v->data = cv;
    ot_tensor *in[3] = {x, ti(OT_INT64, 2 * rank, pads), v};
    attr_spec a = STR("mode", mode);
    CHECK(run_op(&r, "Pad", 19, 3, in, 1, &a, 1) == OT_OK);
    const ot_tensor *y = r.out[0];
    int ok = y->rank == rank;
    int64_t yi[OT_MAX_RANK], xi[OT_MAX_RANK], cb[OT_MAX_RANK], kept[OT_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        ok &= y->dims[k] == dims[k] + pads[k] + pads[rank + k];
        cb[k] = pads[k] < 0 ? -pads[k] : 0;
        kept[k] = dims[k] - cb[k] - (pads[rank + k] < 0 ? -pads[rank + k] : 0);
    }
    for (int64_t i = 0; ok && i < ot_tensor_numel(y); i++) {
        unravel(i, rank, y->dims, yi);
        int inside = 1;
        for (int k = 0; k < rank; k++) {
            int64_t j = yi[k] - (pads[k] > 0 ? pads[k] : 0); /* index into the cropped input */
            if (j < 0 || j >= kept[k]) {
                inside = 0;
                if (strcmp(mode, "constant")) j = ref_pad_index(j, kept[k], mode);
            }
            xi[k] = j + cb[k];
        }
        double want = inside || strcmp(mode, "constant") ? ((double *)x->data)[ravel(rank, dims, xi)] : cv;
        ok &= ((double *)y->data)[i] == want;
    }
    CHECK_MSG(ok, "pad mode %s", mode);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(v);
    ot_tensor_free(x);
}

static void test_pad(void) {
    const char *modes[] = {"constant", "reflect", "edge", "wrap"};
    int64_t d2[] = {3, 4}, d3[] = {2, 3, 4};
    for (int m = 0; m < 4; m++) {
        check_pad(modes[m], 2, d2, (int64_t[]){0, 2, 0, 0});
        check_pad(modes[m], 2, d2, (int64_t[]){2, 1, 1, 3});
        check_pad(modes[m], 2, d2, (int64_t[]){5, 9, 7, 6}); /* wider than the data: repeated mirroring */
        check_pad(modes[m], 3, d3, (int64_t[]){1, -1, 2, 0, 2, -2});
        check_pad(modes[m], 3, d3, (int64_t[]){0, 0, 0, 0, 0, 0});
    }
    /* numpy's example values */
    op_run r;
    ot_tensor *x = tf(OT_FLOAT, 2, (int64_t[]){3, 2}, (double[]){1, 2, 3, 4, 5, 6});
    ot_tensor *in[4] = {x, ti(OT_INT64, 4, (int64_t[]){2, 1, 1, 1}), NULL, NULL};
    attr_spec a = STR("mode", "wrap");
    CHECK(run_op(&r, "Pad", 19, 2, in, 1, &a, 1) == OT_OK);
    CHECK(values_are(r.out[0], (double[]){4, 3, 4, 3, 6, 5, 6, 5, 2, 1, 2, 1, 4, 3, 4, 3, 6, 5, 6, 5, 2, 1, 2, 1}));
    run_free(&r);
    ot_tensor_free(in[1]);
    /* opset 18 axes: pad only axis -1, constant 0 */
    in[1] = ti(OT_INT64, 2, (int64_t[]){1, 2});
    in[3] = ti(OT_INT64, 1, (int64_t[]){-1});
    CHECK(run_op(&r, "Pad", 18, 4, in, 1, NULL, 0) == OT_OK);
    CHECK(dims_are(r.out[0], 2, (int64_t[]){3, 5}));
    CHECK(values_are(r.out[0], (double[]){0, 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 5, 6, 0, 0}));
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(in[3]);
    /* opset 2: attributes, float value into an int type; reflect from an empty axis fails */
    ot_tensor *xi = tf(OT_INT32, 2, (int64_t[]){1, 2}, (double[]){1, 2});
    attr_spec pa[2] = {INTS("pads", 0, 1, 0, 0), FLT("value", 9)};
    CHECK(run_op(&r, "Pad", 2, 1, &xi, 1, pa, 2) == OT_OK);
    CHECK(values_are(r.out[0], (double[]){9, 1, 2}));
    run_free(&r);
    ot_tensor *xe = tf(OT_FLOAT, 2, (int64_t[]){2, 0}, NULL);
    in[0] = xe;
    in[1] = ti(OT_INT64, 4, (int64_t[]){0, 1, 0, 0});
    a.s = "reflect";
    CHECK(run_op(&r, "Pad", 19, 2, in, 1, &a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(in[1]);
    ot_tensor_free(xe);
    ot_tensor_free(xi);
    ot_tensor_free(x);
}

/* ---- Shape, Size, Constant, ConstantOfShape, Range -------------------------------------------- */

static void test_shape_size_constant(void) {
    op_run r;
    ot_tensor *x;
    ot_tensor_new_desc(OT_FLOAT, 4, (int64_t[]){2, 3, 5, 7}, &x); /* no data: shape-only ops never read it */
    attr_spec se[2] = {INT("start", -3), INT("end", -1)};
    CHECK(run_op(&r, "Shape", 15, 1, &x, 1, se, 2) == OT_OK);
    CHECK(r.out[0]->dtype == OT_INT64 && values_are(r.out[0], (double[]){3, 5}));
    run_free(&r);
    se[0].i = 10;
    CHECK(run_op(&r, "Shape", 15, 1, &x, 1, se, 1) == OT_OK);
    CHECK(r.out[0]->dims[0] == 0);
    run_free(&r);
    CHECK(run_op(&r, "Size", 13, 1, &x, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->rank == 0 && *(int64_t *)r.out[0]->data == 210);
    run_free(&r);
    ot_tensor_free(x);

    attr_spec c1 = INTS("value_ints", 4, -5);
    CHECK(run_op(&r, "Constant", 13, 0, NULL, 1, &c1, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_INT64 && values_are(r.out[0], (double[]){4, -5}));
    run_free(&r);
    attr_spec c2 = FLT("value_float", 2.5f);
    CHECK(run_op(&r, "Constant", 13, 0, NULL, 1, &c2, 1) == OT_OK);
    CHECK(r.out[0]->rank == 0 && values_are(r.out[0], (double[]){2.5}));
    run_free(&r);
    ot_tensor *t = tf(OT_BFLOAT16, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, -4});
    attr_spec c3 = TENSOR_ATTR("value", t);
    CHECK(run_op(&r, "Constant", 13, 0, NULL, 1, &c3, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_BFLOAT16 && values_are(r.out[0], (double[]){1, 2, 3, -4}));
    run_free(&r);
    attr_spec c4[2] = {c2, STR("value_string", "x")};
    CHECK(run_op(&r, "Constant", 13, 0, NULL, 1, c4, 2) == OT_ERR_PARSE);
    run_free(&r);
    CHECK(run_op(&r, "Constant", 13, 0, NULL, 1, c4 + 1, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);

    ot_tensor *shape = ti(OT_INT64, 2, (int64_t[]){2, 3});
    CHECK(run_op(&r, "ConstantOfShape", 9, 1, &shape, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dtype == OT_FLOAT && dims_are(r.out[0], 2, (int64_t[]){2, 3}));
    CHECK(values_are(r.out[0], (double[]){0, 0, 0, 0, 0, 0}));
    run_free(&r);
    ot_tensor *one = tf(OT_INT32, 1, (int64_t[]){1}, (double[]){-3});
    attr_spec cv = TENSOR_ATTR("value", one);
    CHECK(run_op(&r, "ConstantOfShape", 9, 1, &shape, 1, &cv, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_INT32 && values_are(r.out[0], (double[]){-3, -3, -3, -3, -3, -3}));
    run_free(&r);
    ot_tensor_free(shape);
    shape = ti(OT_INT64, 0, NULL);
    CHECK(run_op(&r, "ConstantOfShape", 9, 1, &shape, 1, &cv, 1) == OT_OK);
    CHECK(r.out[0]->rank == 0 && values_are(r.out[0], (double[]){-3}));
    run_free(&r);
    cv.t = t;
    CHECK(run_op(&r, "ConstantOfShape", 9, 1, &shape, 1, &cv, 1) == OT_ERR_PARSE);
    run_free(&r);
    ot_tensor_free(shape);
    ot_tensor_free(one);
    ot_tensor_free(t);
}

static void test_range(void) {
    op_run r;
    ot_tensor *in[3];
    double fv[3] = {1, 2, 0.3};
    for (int i = 0; i < 3; i++) in[i] = tf(OT_FLOAT, 0, NULL, &fv[i]);
    CHECK(run_op(&r, "Range", 11, 3, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dims[0] == 4);
    CHECK_CLOSE(((float *)r.out[0]->data)[3], 1.9f, 1e-6, 0);
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
    double iv[3] = {10, 6, -3};
    for (int i = 0; i < 3; i++) in[i] = tf(OT_INT32, 0, NULL, &iv[i]);
    CHECK(run_op(&r, "Range", 11, 3, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dims[0] == 2 && values_are(r.out[0], (double[]){10, 7}));
    run_free(&r);
    ot_store_f64(OT_INT32, in[2]->data, 0, 3); /* wrong direction: empty */
    CHECK(run_op(&r, "Range", 11, 3, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dims[0] == 0);
    run_free(&r);
    ot_store_f64(OT_INT32, in[2]->data, 0, 0);
    CHECK(run_op(&r, "Range", 11, 3, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
    /* float16 (opset 27): computed in float32, rounded to half */
    double hv[3] = {2048, 2052, 1};
    for (int i = 0; i < 3; i++) in[i] = tf(OT_FLOAT16, 0, NULL, &hv[i]);
    CHECK(run_op(&r, "Range", 27, 3, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dims[0] == 4 && values_are(r.out[0], (double[]){2048, 2048, 2050, 2052})); /* ties to even */
    run_free(&r);
    /* values unknown at compile time: infer asks for them */
    ot_tensor *desc;
    ot_tensor_new_desc(OT_FLOAT16, 0, NULL, &desc);
    ot_tensor *in_d[3] = {in[0], desc, in[2]};
    CHECK(run_op_x(&r, "Range", 27, 3, in_d, 1, NULL, 0, &(run_opts){.infer_only = true}) == OT_NEED_VALUE);
    run_free(&r);
    ot_tensor_free(desc);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

/* ---- Trilu, OneHot ---------------------------------------------------------------------- */

static void test_trilu(void) {
    int64_t d[3] = {2, 3, 5};
    ot_tensor *x = tf(OT_DOUBLE, 3, d, NULL);
    for (int upper = 0; upper < 2; upper++)
        for (int64_t k = -4; k <= 6; k++) {
            op_run r;
            ot_tensor *kt = scalar_i64(k == 6 ? INT64_MAX : k == -4 ? INT64_MIN : k);
            ot_tensor *in[2] = {x, kt};
            attr_spec a = INT("upper", upper);
            CHECK(run_op(&r, "Trilu", 14, 2, in, 1, &a, 1) == OT_OK);
            int ok = 1;
            int64_t kk = k == 6 ? INT64_MAX : k == -4 ? INT64_MIN : k;
            for (int64_t e = 0; e < 30; e++) {
                int64_t i = (e / 5) % 3, j = e % 5;
                int keep = upper ? (kk < -100 || (kk < 100 && j - i >= kk)) : (kk > 100 || (kk > -100 && j - i <= kk));
                ok &= ((double *)r.out[0]->data)[e] == (keep ? (double)e : 0.0);
            }
            CHECK_MSG(ok, "trilu upper=%d k=%lld", upper, (long long)kk);
            run_free(&r);
            ot_tensor_free(kt);
        }
    ot_tensor_free(x);
}

static void test_onehot(void) {
    op_run r;
    ot_tensor *idx = tf(OT_INT64, 2, (int64_t[]){2, 2}, (double[]){0, -1, 3, 7});
    ot_tensor *depth = tf(OT_FLOAT, 0, NULL, (double[]){4.7});
    ot_tensor *vals = tf(OT_INT32, 1, (int64_t[]){2}, (double[]){-1, 5});
    ot_tensor *in[3] = {idx, depth, vals};
    attr_spec a = INT("axis", 1);
    CHECK(run_op(&r, "OneHot", 11, 3, in, 1, &a, 1) == OT_OK);
    /* (2, 4, 2): out[i, d, j] = on where idx[i, j] (mod 4 for negatives) == d */
    CHECK(r.out[0]->dtype == OT_INT32 && dims_are(r.out[0], 3, (int64_t[]){2, 4, 2}));
    CHECK(values_are(r.out[0], (double[]){5, -1, -1, -1, -1, -1, -1, 5, -1, -1, -1, -1, -1, -1, 5, -1}));
    run_free(&r);
    CHECK(run_op(&r, "OneHot", 9, 3, in, 1, NULL, 0) == OT_OK); /* axis -1; negatives are off before 11 */
    CHECK(dims_are(r.out[0], 3, (int64_t[]){2, 2, 4}));
    CHECK(values_are(r.out[0], (double[]){5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 5, -1, -1, -1, -1}));
    run_free(&r);
    a.i = 3;
    CHECK(run_op(&r, "OneHot", 11, 3, in, 1, &a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(idx);
    ot_tensor_free(depth);
    ot_tensor_free(vals);
}

/* ---- kernels on their own ------------------------------------------------------------------------ */

static void test_kernels(void) {
    /* strided copy with negative and zero strides */
    float src[6] = {0, 1, 2, 3, 4, 5}, dst[6] = {0};
    ot_k_copy_strided(dst, (int64_t[]){3, 1}, src + 5, (int64_t[]){0, -1}, 2, (int64_t[]){2, 3}, 4);
    CHECK(dst[0] == 5 && dst[2] == 3 && dst[3] == 5 && dst[5] == 3);
    uint16_t f[5];
    uint16_t v = 0xabcd;
    ot_k_fill(f, 5, &v, 2);
    CHECK(f[0] == 0xabcd && f[4] == 0xabcd);
}

int main(void) {
    test_reshape();
    test_flatten_squeeze();
    test_transpose();
    test_concat_split();
    test_slice();
    test_expand_tile();
    test_pad();
    test_shape_size_constant();
    test_range();
    test_trilu();
    test_onehot();
    test_kernels();
    return check_done();
}
