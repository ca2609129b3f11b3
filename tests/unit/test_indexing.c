/* Indexing ops: Gather*, Scatter*, Compress, NonZero, TopK against small
   hand-computed values and naive reference loops. */
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"
#include "src/core/half.h"

static int64_t rand_int(int64_t lo, int64_t hi) { return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo)); }

static ot_tensor *rand_f32(int rank, const int64_t *dims) {
    ot_tensor *t = tensor(OT_FLOAT, rank, dims, NULL);
    float *p = t->data;
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) p[i] = (float)rand_int(-1000, 1000) / 8.0f;
    return t;
}

/* Random indices in [-dim, dim) (negative ones wrap). */
static ot_tensor *rand_idx(ot_dtype dt, int rank, const int64_t *dims, int64_t dim) {
    ot_tensor *t = tensor(dt, rank, dims, NULL);
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) ot_store_i64(dt, t->data, i, rand_int(-dim, dim));
    return t;
}

/* ---- Gather -------------------------------------------------------------------- */

static void test_gather_embedding(void) {
    /* (1000, 64) table, (8, 64) int64 lookups: the parallel memcpy path. */
    int64_t td[2] = {1000, 64}, idd[2] = {8, 64};
    ot_tensor *w = rand_f32(2, td), *ix = rand_idx(OT_INT64, 2, idd, 1000);
    ot_tensor *in[2] = {w, ix};
    op_run r;
    CHECK(run_op(&r, "Gather", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->rank == 3 && r.out[0]->dims[0] == 8 && r.out[0]->dims[1] == 64 && r.out[0]->dims[2] == 64);
    int bad = 0;
    const float *o = r.out[0]->data, *wd = w->data;
    for (int64_t j = 0; j < 8 * 64; j++) {
        int64_t i = ((int64_t *)ix->data)[j];
        if (i < 0) i += 1000;
        bad += memcmp(o + j * 64, wd + i * 64, 64 * sizeof(float)) != 0;
    }
    CHECK(bad == 0);
    run_free(&r);
    ot_tensor_free(w);
    ot_tensor_free(ix);
}

static void test_gather_axes(void) {
    int64_t xd[3] = {3, 4, 5};
    ot_tensor *x = rand_f32(3, xd);
    for (int axis = -3; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        int64_t idd[2] = {2, 3};
        ot_tensor *ix = rand_idx(OT_INT32, 2, idd, xd[ax]);
        ot_tensor *in[2] = {x, ix};
        attr_spec a = INT("axis", axis);
        op_run r;
        CHECK(run_op(&r, "Gather", 11, 2, in, 1, &a, 1) == OT_OK);
        CHECK(r.out[0]->rank == 4);
        int bad = 0;
        int64_t n = ot_tensor_numel(r.out[0]), oc[4], xc[3];
        for (int64_t p = 0; p < n; p++) {
            unravel(p, 4, r.out[0]->dims, oc);
            int64_t i = ((int32_t *)ix->data)[oc[ax] * 3 + oc[ax + 1]];
            if (i < 0) i += xd[ax];
            for (int d = 0, k = 0; d < 3; d++) xc[d] = d == ax ? (k += 2, i) : oc[k++];
            bad += ((float *)r.out[0]->data)[p] != ((float *)x->data)[ravel(3, xd, xc)];
        }
        CHECK_MSG(bad == 0, "axis %d", axis);
        run_free(&r);
        ot_tensor_free(ix);
    }
    /* scalar index along axis 1: output (3, 5) */
    int64_t one = -1;
    ot_tensor *ix = tensor(OT_INT64, 0, NULL, &one);
    ot_tensor *in[2] = {x, ix};
    attr_spec a = INT("axis", 1);
    op_run r;
    CHECK(run_op(&r, "Gather", 13, 2, in, 1, &a, 1) == OT_OK);
    CHECK(r.out[0]->rank == 2 && r.out[0]->dims[0] == 3 && r.out[0]->dims[1] == 5);
    CHECK(((float *)r.out[0]->data)[5 + 2] == ((float *)x->data)[1 * 20 + 3 * 5 + 2]);
    run_free(&r);
    ot_tensor_free(ix);
    ot_tensor_free(x);
}

static void test_gather_types_and_errors(void) {
    /* float16 and uint8 data: moved as bytes. */
    int64_t d1[1] = {4}, d2[1] = {3};
    uint16_t h[4] = {ot_f32_to_f16(1), ot_f32_to_f16(2), ot_f32_to_f16(3), ot_f32_to_f16(4)};
    int64_t iv[3] = {3, 0, -3};
    ot_tensor *x = tensor(OT_FLOAT16, 1, d1, h), *ix = tensor(OT_INT64, 1, d2, iv);
    ot_tensor *in[2] = {x, ix};
    op_run r;
    CHECK(run_op(&r, "Gather", 13, 2, in, 1, NULL, 0) == OT_OK);
    uint16_t *o = r.out[0]->data;
    CHECK(ot_f16_to_f32(o[0]) == 4 && ot_f16_to_f32(o[1]) == 1 && ot_f16_to_f32(o[2]) == 2);
    run_free(&r);
    /* out of range: the message names the node, the value and its position */
    iv[1] = 4;
    memcpy(ix->data, iv, sizeof iv);
    ot_status s = run_op(&r, "Gather", 13, 2, in, 1, NULL, 0);
    CHECK(s == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "mynode") && strstr(ot_last_error(), "index 4") &&
                  strstr(ot_last_error(), "[1]"),
              "%s", ot_last_error());
    run_free(&r);
    iv[1] = -5;
    memcpy(ix->data, iv, sizeof iv);
    CHECK(run_op(&r, "Gather", 13, 2, in, 1, NULL, 0) == OT_ERR_INVALID_ARG);
    run_free(&r);
    /* the first bad index is reported even when the scan runs in parallel */
    int64_t big = 100000;
    ot_tensor *bi = tensor(OT_INT32, 1, &big, NULL);
    ((int32_t *)bi->data)[70001] = 4;
    ((int32_t *)bi->data)[90000] = -9;
    ot_tensor *inb[2] = {x, bi};
    CHECK(run_op(&r, "Gather", 13, 2, inb, 1, NULL, 0) == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "index 4 (input 1 at [70001])") != NULL, "%s", ot_last_error());
    run_free(&r);
    ot_tensor_free(bi);
    /* float indices are a type error */
    ot_tensor *fi = tensor(OT_FLOAT, 1, d2, NULL);
    ot_tensor *in2[2] = {x, fi};
    CHECK(run_op(&r, "Gather", 13, 2, in2, 1, NULL, 0) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    /* axis out of range */
    attr_spec a = INT("axis", 1);
    CHECK(run_op(&r, "Gather", 13, 2, in, 1, &a, 1) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(fi);
    ot_tensor_free(x);
    ot_tensor_free(ix);
}

/* ---- GatherElements / ScatterElements --------------------------------------------- */

static void test_gather_elements(void) {
    int64_t xd[3] = {3, 4, 5};
    ot_tensor *x = rand_f32(3, xd);
    for (int ax = 0; ax < 3; ax++) {
        int64_t idd[3] = {rand_int(1, 4), rand_int(1, 5), rand_int(1, 6)};
        for (int d = 0; d < 3; d++)
            if (d != ax && idd[d] > xd[d]) idd[d] = xd[d];
        idd[ax] = 7;
        ot_tensor *ix = rand_idx(ax == 1 ? OT_INT32 : OT_INT64, 3, idd, xd[ax]);
        ot_tensor *in[2] = {x, ix};
        attr_spec a = INT("axis", ax - 3 * (ax == 2));
        op_run r;
        CHECK(run_op(&r, "GatherElements", 13, 2, in, 1, &a, 1) == OT_OK);
        CHECK(ot_shape_equal(r.out[0]->rank, r.out[0]->dims, 3, idd));
        int bad = 0;
        int64_t c[3];
        for (int64_t p = 0; p < ot_tensor_numel(ix); p++) {
            unravel(p, 3, idd, c);
            int64_t i = ot_load_i64(ix->dtype, ix->data, p);
            c[ax] = i < 0 ? i + xd[ax] : i;
            bad += ((float *)r.out[0]->data)[p] != ((float *)x->data)[ravel(3, xd, c)];
        }
        CHECK_MSG(bad == 0, "axis %d", ax);
        run_free(&r);
        ot_tensor_free(ix);
    }
    /* indices larger than data off the axis are a shape error */
    int64_t idd[3] = {3, 5, 5};
    ot_tensor *ix = rand_idx(OT_INT64, 3, idd, 3);
    ot_tensor *in[2] = {x, ix};
    op_run r;
    CHECK(run_op(&r, "GatherElements", 13, 2, in, 1, NULL, 0) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(ix);
    ot_tensor_free(x);
}

static void test_scatter_elements(void) {
    /* data (1, 5), indices [[1, 3, 1]] along axis 1, updates [[1.5, 2, 3]] */
    int64_t dd[2] = {1, 5}, id[2] = {1, 3};
    float data[5] = {1, 2, 3, 4, 5}, upd[3] = {1.5f, 2, 3};
    int64_t idx[3] = {1, -2, 1};
    struct {
        const char *red;
        float want[5];
    } cases[] = {
        {"none", {1, 3, 3, 2, 5}},
        {"add", {1, 6.5f, 3, 6, 5}},
        {"mul", {1, 9, 3, 8, 5}},
        {"max", {1, 3, 3, 4, 5}},
        {"min", {1, 1.5f, 3, 2, 5}},
    };
    ot_tensor *x = tensor(OT_FLOAT, 2, dd, data), *ix = tensor(OT_INT64, 2, id, idx), *u = tensor(OT_FLOAT, 2, id, upd);
    ot_tensor *in[3] = {x, ix, u};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        attr_spec a[2] = {INT("axis", 1), STR("reduction", cases[k].red)};
        op_run r;
        CHECK(run_op(&r, "ScatterElements", 18, 3, in, 1, a, 2) == OT_OK);
        CHECK_MSG(!memcmp(r.out[0]->data, cases[k].want, sizeof data), "reduction %s", cases[k].red);
        run_free(&r);
    }
    /* opset gating: max needs 18, any reduction needs 16 */
    attr_spec amax[2] = {INT("axis", 1), STR("reduction", "max")};
    op_run r;
    CHECK(run_op(&r, "ScatterElements", 16, 3, in, 1, amax, 2) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    CHECK(run_op(&r, "ScatterElements", 13, 3, in, 1, amax, 2) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    /* Scatter (opset 9) is ScatterElements without reduction */
    CHECK(run_op(&r, "Scatter", 9, 3, in, 1, amax, 1) == OT_OK);
    CHECK(!memcmp(r.out[0]->data, cases[0].want, sizeof data));
    run_free(&r);
    /* int32 data with add wraps instead of overflowing */
    int32_t di[5] = {INT32_MAX, 0, 0, 0, 0}, ui[3] = {1, 1, 1};
    int64_t i0[3] = {0, 0, 4};
    ot_tensor *xi = tensor(OT_INT32, 2, dd, di), *ii = tensor(OT_INT64, 2, id, i0), *uu = tensor(OT_INT32, 2, id, ui);
    ot_tensor *in2[3] = {xi, ii, uu};
    attr_spec aadd[2] = {INT("axis", 1), STR("reduction", "add")};
    CHECK(run_op(&r, "ScatterElements", 16, 3, in2, 1, aadd, 2) == OT_OK);
    CHECK(((int32_t *)r.out[0]->data)[0] == INT32_MIN + 1 && ((int32_t *)r.out[0]->data)[4] == 1);
    run_free(&r);
    /* out-of-range index: nothing written, error names the position */
    i0[2] = 5;
    memcpy(ii->data, i0, sizeof i0);
    CHECK(run_op(&r, "ScatterElements", 16, 3, in2, 1, aadd, 2) == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "[0, 2]") != NULL, "%s", ot_last_error());
    run_free(&r);
    /* type mismatch between data and updates */
    ot_tensor *in3[3] = {x, ix, uu};
    CHECK_MSG(run_op(&r, "ScatterElements", 16, 3, in3, 1, aadd, 1) == OT_ERR_TYPE, "%s", ot_last_error());
    run_free(&r);
    ot_tensor_free(xi);
    ot_tensor_free(ii);
    ot_tensor_free(uu);
    ot_tensor_free(x);
    ot_tensor_free(ix);
    ot_tensor_free(u);
}

/* ---- GatherND / ScatterND ----------------------------------------------------------- */

static void test_gather_nd(void) {
    /* data (2, 2, 2) = 0..7 */
    int64_t dd[3] = {2, 2, 2};
    int32_t data[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    ot_tensor *x = tensor(OT_INT32, 3, dd, data);
    /* indices [[0, 1], [1, 0]] -> [[2, 3], [4, 5]] */
    int64_t id[2] = {2, 2}, iv[4] = {0, 1, 1, 0};
    ot_tensor *ix = tensor(OT_INT64, 2, id, iv);
    ot_tensor *in[2] = {x, ix};
    op_run r;
    CHECK(run_op(&r, "GatherND", 11, 2, in, 1, NULL, 0) == OT_OK);
    int32_t want[4] = {2, 3, 4, 5};
    CHECK(r.out[0]->rank == 2 && !memcmp(r.out[0]->data, want, sizeof want));
    run_free(&r);
    /* batch_dims 1: indices [[1], [0]] -> [[2, 3], [4, 5]] */
    int64_t id2[2] = {2, 1}, iv2[2] = {1, 0};
    ot_tensor *ix2 = tensor(OT_INT64, 2, id2, iv2);
    ot_tensor *in2[2] = {x, ix2};
    attr_spec a = INT("batch_dims", 1);
    CHECK(run_op(&r, "GatherND", 12, 2, in2, 1, &a, 1) == OT_OK);
    CHECK(r.out[0]->rank == 2 && r.out[0]->dims[0] == 2 && r.out[0]->dims[1] == 2);
    CHECK(!memcmp(r.out[0]->data, want, sizeof want));
    run_free(&r);
    CHECK(run_op(&r, "GatherND", 11, 2, in2, 1, &a, 1) == OT_ERR_UNSUPPORTED); /* batch_dims needs 12 */
    run_free(&r);
    /* full index tuples with a negative component, and an out-of-range one */
    int64_t id3[2] = {2, 3}, iv3[6] = {1, -1, 0, 0, 0, 1};
    ot_tensor *ix3 = tensor(OT_INT64, 2, id3, iv3);
    ot_tensor *in3[2] = {x, ix3};
    CHECK(run_op(&r, "GatherND", 13, 2, in3, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->rank == 1 && ((int32_t *)r.out[0]->data)[0] == 6 && ((int32_t *)r.out[0]->data)[1] == 1);
    run_free(&r);
    ((int64_t *)ix3->data)[4] = 2;
    CHECK(run_op(&r, "GatherND", 13, 2, in3, 1, NULL, 0) == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "axis 1") != NULL, "%s", ot_last_error());
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(ix);
    ot_tensor_free(ix2);
    ot_tensor_free(ix3);
}

static void test_scatter_nd(void) {
    /* the spec's example 1, then add with a duplicate index */
    int64_t dd[1] = {8}, id[2] = {4, 1}, ud[1] = {4};
    float data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, upd[4] = {9, 10, 11, 12};
    int64_t iv[4] = {4, 3, 1, 7};
    ot_tensor *x = tensor(OT_FLOAT, 1, dd, data), *ix = tensor(OT_INT64, 2, id, iv), *u = tensor(OT_FLOAT, 1, ud, upd);
    ot_tensor *in[3] = {x, ix, u};
    op_run r;
    CHECK(run_op(&r, "ScatterND", 11, 3, in, 1, NULL, 0) == OT_OK);
    float want[8] = {1, 11, 3, 10, 9, 6, 7, 12};
    CHECK(!memcmp(r.out[0]->data, want, sizeof want));
    run_free(&r);
    ((int64_t *)ix->data)[1] = -4; /* same element as index 4 */
    attr_spec a = STR("reduction", "add");
    CHECK(run_op(&r, "ScatterND", 16, 3, in, 1, &a, 1) == OT_OK);
    float want2[8] = {1, 13, 3, 4, 24, 6, 7, 20};
    CHECK(!memcmp(r.out[0]->data, want2, sizeof want2));
    run_free(&r);
    /* slices: data (4, 3), indices [[2], [0]], updates (2, 3) */
    int64_t dd2[2] = {4, 3}, id2[2] = {2, 1}, ud2[2] = {2, 3};
    double d2[12] = {0}, u2[6] = {1, 2, 3, 4, 5, 6};
    int64_t iv2[2] = {2, 0};
    ot_tensor *x2 = tensor(OT_DOUBLE, 2, dd2, d2), *ix2 = tensor(OT_INT64, 2, id2, iv2), *uu = tensor(OT_DOUBLE, 2, ud2, u2);
    ot_tensor *in2[3] = {x2, ix2, uu};
    CHECK(run_op(&r, "ScatterND", 13, 3, in2, 1, NULL, 0) == OT_OK);
    const double *o = r.out[0]->data;
    CHECK(o[0] == 4 && o[2] == 6 && o[3] == 0 && o[6] == 1 && o[8] == 3 && o[11] == 0);
    run_free(&r);
    /* wrong updates shape */
    ot_tensor *in3[3] = {x2, ix2, u};
    CHECK(run_op(&r, "ScatterND", 13, 3, in3, 1, NULL, 0) != OT_OK);
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(ix);
    ot_tensor_free(u);
    ot_tensor_free(x2);
    ot_tensor_free(ix2);
    ot_tensor_free(uu);
}

/* ---- Compress, NonZero, TopK --------------------------------------------------------- */

static void test_compress_nonzero(void) {
    int64_t dd[2] = {3, 2}, cd[1] = {3};
    float data[6] = {1, 2, 3, 4, 5, 6};
    uint8_t cond[3] = {0, 1, 1};
    ot_tensor *x = tensor(OT_FLOAT, 2, dd, data), *cv = tensor(OT_BOOL, 1, cd, cond);
    ot_tensor *in[2] = {x, cv};
    attr_spec a0 = INT("axis", 0), a1 = INT("axis", -1);
    op_run r;
    CHECK(run_op(&r, "Compress", 9, 2, in, 1, &a0, 1) == OT_OK);
    float w0[4] = {3, 4, 5, 6};
    CHECK(r.out[0]->dims[0] == 2 && r.out[0]->dims[1] == 2 && !memcmp(r.out[0]->data, w0, sizeof w0));
    run_free(&r);
    cv->dims[0] = 2; /* shorter than the axis: only the first two columns are considered */
    CHECK(run_op(&r, "Compress", 11, 2, in, 1, &a1, 1) == OT_OK);
    float w1[3] = {2, 4, 6};
    CHECK(r.out[0]->dims[0] == 3 && r.out[0]->dims[1] == 1 && !memcmp(r.out[0]->data, w1, sizeof w1));
    run_free(&r);
    CHECK(run_op(&r, "Compress", 11, 2, in, 1, NULL, 0) == OT_OK); /* flattened */
    CHECK(r.out[0]->rank == 1 && r.out[0]->dims[0] == 1 && ((float *)r.out[0]->data)[0] == 2);
    run_free(&r);
    cv->dims[0] = 3; /* a True beyond a 2-long axis */
    CHECK(run_op(&r, "Compress", 11, 2, in, 1, &a1, 1) == OT_ERR_INVALID_ARG);
    run_free(&r);

    /* NonZero [[1, 0], [1, 1]] -> [[0, 1, 1], [0, 0, 1]]; -0.0 is zero, NaN is not */
    int64_t nd[2] = {2, 2};
    float nzv[4] = {1, -0.0f, 1, NAN};
    ot_tensor *nz = tensor(OT_FLOAT, 2, nd, nzv);
    CHECK(run_op(&r, "NonZero", 13, 1, &nz, 1, NULL, 0) == OT_OK);
    int64_t wnz[6] = {0, 1, 1, 0, 0, 1};
    CHECK(r.out[0]->dims[0] == 2 && r.out[0]->dims[1] == 3 && !memcmp(r.out[0]->data, wnz, sizeof wnz));
    run_free(&r);
    ot_tensor_free(nz);
    ot_tensor_free(x);
    ot_tensor_free(cv);
}

/* Naive TopK of one row: selection by repeated scans. */
static void naive_topk(const float *x, int64_t n, int64_t k, int largest, float *v, int64_t *ix) {
    uint8_t used[64] = {0};
    for (int64_t m = 0; m < k; m++) {
        int64_t best = -1;
        for (int64_t j = 0; j < n; j++) {
            if (used[j]) continue;
            if (best < 0) best = j;
            else if (isnan(x[j]) || isnan(x[best])) {
                if (isnan(x[j]) && !isnan(x[best]) && largest) best = j;
                if (!isnan(x[j]) && isnan(x[best]) && !largest) best = j;
            } else if (largest ? x[j] > x[best] : x[j] < x[best]) best = j;
        }
        used[best] = 1;
        v[m] = x[best];
        ix[m] = best;
    }
}

static void test_topk(void) {
    /* (4, 20, 3) along axis 1 with many ties and a NaN */
    int64_t xd[3] = {4, 20, 3};
    ot_tensor *x = tensor(OT_FLOAT, 3, xd, NULL);
    float *xv = x->data;
    for (int i = 0; i < 240; i++) xv[i] = (float)rand_int(0, 6);
    xv[7] = NAN;
    for (int largest = 0; largest < 2; largest++) {
        int64_t kk = 5, kd[1] = {1};
        ot_tensor *k = tensor(OT_INT64, 1, kd, &kk);
        ot_tensor *in[2] = {x, k};
        attr_spec a[2] = {INT("axis", -2), INT("largest", largest)};
        op_run r;
        CHECK(run_op(&r, "TopK", 11, 2, in, 2, a, 2) == OT_OK);
        CHECK(r.out[0]->dims[1] == 5 && r.out[1]->dtype == OT_INT64);
        int bad = 0;
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 3; i++) {
                float row[20], wv[5];
                int64_t wi[5];
                for (int j = 0; j < 20; j++) row[j] = xv[(o * 20 + j) * 3 + i];
                naive_topk(row, 20, 5, largest, wv, wi);
                for (int m = 0; m < 5; m++) {
                    float gv = ((float *)r.out[0]->data)[(o * 5 + m) * 3 + i];
                    int64_t gi = ((int64_t *)r.out[1]->data)[(o * 5 + m) * 3 + i];
                    bad += gi != wi[m] || !(gv == wv[m] || (isnan(gv) && isnan(wv[m])));
                }
            }
        CHECK_MSG(bad == 0, "largest=%d", largest);
        run_free(&r);
        ot_tensor_free(k);
    }
    /* opset 1: k attribute; k larger than the axis is an error */
    attr_spec ak = INT("k", 2);
    op_run r;
    CHECK(run_op(&r, "TopK", 1, 1, &x, 2, &ak, 1) == OT_OK);
    CHECK(r.out[0]->dims[2] == 2);
    run_free(&r);
    ak.i = 4;
    CHECK(run_op(&r, "TopK", 1, 1, &x, 2, &ak, 1) == OT_ERR_INVALID_ARG);
    run_free(&r);
    ak.i = 2;
    CHECK(run_op(&r, "TopK", 11, 1, &x, 2, &ak, 1) == OT_ERR_UNSUPPORTED); /* k is an input from 10 */
    run_free(&r);
    /* uint64 and int8: integer keys keep their order */
    int64_t d1[1] = {4}, kd[1] = {1}, k2 = 2;
    uint64_t uv[4] = {UINT64_MAX, 1, UINT64_MAX - 1, 0};
    int8_t sv[4] = {-128, 127, -1, 0};
    ot_tensor *u = tensor(OT_UINT64, 1, d1, uv), *s8 = tensor(OT_INT8, 1, d1, sv), *k = tensor(OT_INT64, 1, kd, &k2);
    ot_tensor *in[2] = {u, k};
    CHECK(run_op(&r, "TopK", 11, 2, in, 2, NULL, 0) == OT_OK);
    CHECK(((int64_t *)r.out[1]->data)[0] == 0 && ((int64_t *)r.out[1]->data)[1] == 2);
    run_free(&r);
    in[0] = s8;
    attr_spec sm = INT("largest", 0);
    CHECK(run_op(&r, "TopK", 11, 2, in, 2, &sm, 1) == OT_OK);
    CHECK(((int8_t *)r.out[0]->data)[0] == -128 && ((int8_t *)r.out[0]->data)[1] == -1);
    run_free(&r);
    ot_tensor_free(u);
    ot_tensor_free(s8);
    ot_tensor_free(k);
    ot_tensor_free(x);
}

int main(void) {
    test_gather_embedding();
    test_gather_axes();
    test_gather_types_and_errors();
    test_gather_elements();
    test_scatter_elements();
    test_gather_nd();
    test_scatter_nd();
    test_compress_nonzero();
    test_topk();
    return check_done();
}
