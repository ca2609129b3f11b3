/* Data sets and the batcher: file formats, order, epochs, state restore,
 * conversion, reshaping, the data checks and the prefetch thread. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "scratch.h"
#include "src/core/alloc.h"
#include "src/core/status.h"
#include "src/core/tensor.h"
#include "src/data/batcher.h"
#include "src/data/dataset.h"
#include "src/data/npy.h"

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }
#define CHECK_ERR(expr, code, sub)                                                                 \
    do {                                                                                           \
        ot_status s_ = (expr);                                                                     \
        CHECK_MSG(s_ == (code) && contains(ot_last_error(), sub), "status %d, message: %s", s_,    \
                  ot_last_error());                                                                \
    } while (0)

/* x: (n, 3) float32 with x[i] = {i, 100 + i, 200 + i}; labels: (n) int64 = i % 5. */
static ot_dataset *make_ds(int64_t n) {
    ot_dataset *ds;
    ot_tensor *x, *y;
    int64_t xd[2] = {n, 3};
    if (ot_dataset_new(&ds) || ot_tensor_new(OT_FLOAT, 2, xd, &x) || ot_tensor_new(OT_INT64, 1, &n, &y)) abort();
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < 3; j++) ((float *)x->data)[i * 3 + j] = (float)(100 * j + i);
        ((int64_t *)y->data)[i] = i % 5;
    }
    if (ot_dataset_add(ds, "x", x, "x.npy", 1.0) || ot_dataset_add(ds, "labels", y, "y.npy", 1.0)) abort();
    return ds;
}

static ot_batch_binding bind_of(const char *array, ot_dtype dt, int rank, const int64_t *dims) {
    ot_batch_binding b;
    memset(&b, 0, sizeof b);
    b.array = array;
    b.dtype = dt;
    b.rank = rank;
    for (int d = 0; d < rank; d++) b.dims[d] = dims[d];
    return b;
}

static ot_batcher *make_batcher(const ot_dataset *ds, int64_t bs, bool shuffle, bool drop_last, uint64_t seed) {
    const int64_t three = 3;
    ot_batch_binding bb[2] = {bind_of("x", OT_FLOAT, 1, &three), bind_of("labels", OT_INT64, 0, NULL)};
    bb[1].n_classes = 5;
    ot_batcher *b = NULL;
    ot_status s = ot_batcher_create(ds, bb, 2, bs, shuffle, drop_last, seed, &b);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    return b;
}

/* Reads `count` batches; writes the sample index of each row (from x) to order,
   batch sizes to rows, epoch_end flags to ends.  Also checks x/labels agree. */
static int64_t read_batches(ot_batcher *b, int count, int64_t *order, int64_t *rows, bool *ends) {
    int64_t total = 0;
    for (int k = 0; k < count; k++) {
        ot_tensor **t;
        int64_t r;
        bool end;
        if (ot_batcher_next(b, &t, &r, &end) != OT_OK) {
            CHECK_MSG(0, "next: %s", ot_last_error());
            return total;
        }
        CHECK(t[0]->dims[0] == r && t[1]->dims[0] == r && t[0]->rank == 2 && t[1]->rank == 1);
        for (int64_t i = 0; i < r; i++) {
            int64_t idx = (int64_t)((float *)t[0]->data)[i * 3];
            CHECK(((float *)t[0]->data)[i * 3 + 2] == (float)(200 + idx));
            CHECK(((int64_t *)t[1]->data)[i] == idx % 5);
            order[total++] = idx;
        }
        if (rows) rows[k] = r;
        if (ends) ends[k] = end;
    }
    return total;
}

static void test_permutation(void) {
    enum { N = 1000 };
    static int64_t a[N], b[N], c[N];
    ot_batcher_permutation(42, 0, N, a);
    ot_batcher_permutation(42, 0, N, b);
    CHECK(!memcmp(a, b, sizeof a));
    ot_batcher_permutation(43, 0, N, c);
    CHECK(memcmp(a, c, sizeof a) != 0);
    ot_batcher_permutation(42, 1, N, c);
    CHECK(memcmp(a, c, sizeof a) != 0);
    static char seen[N];
    int ok = 1, fixed = 0;
    for (int i = 0; i < N; i++) {
        ok &= a[i] >= 0 && a[i] < N && !seen[a[i]];
        if (a[i] >= 0 && a[i] < N) seen[a[i]] = 1;
        fixed += a[i] == i;
    }
    CHECK(ok);
    CHECK(fixed < 10); /* ~1 expected for a uniform permutation */
    /* rough uniformity: where element 0 lands over many epochs */
    int first_half = 0;
    for (int e = 0; e < 400; e++) {
        int64_t p[8];
        ot_batcher_permutation(7, e, 8, p);
        for (int i = 0; i < 4; i++) first_half += p[i] == 0;
    }
    CHECK(first_half > 150 && first_half < 250);
}

static void test_epochs(void) {
    ot_dataset *ds = make_ds(10);
    int64_t order[64], rows[8], ref[10];
    bool ends[8];
    /* shuffle: 4, 4, 2 rows, each sample once, in the permutation's order */
    ot_batcher *b = make_batcher(ds, 4, true, false, 123);
    CHECK(ot_batcher_batches_per_epoch(b) == 3 && ot_batcher_samples(b) == 10);
    CHECK(read_batches(b, 6, order, rows, ends) == 20);
    CHECK(rows[0] == 4 && rows[1] == 4 && rows[2] == 2 && rows[3] == 4 && rows[5] == 2);
    CHECK(!ends[0] && !ends[1] && ends[2] && !ends[3] && ends[5]);
    ot_batcher_permutation(123, 0, 10, ref);
    CHECK(!memcmp(order, ref, sizeof ref));
    ot_batcher_permutation(123, 1, 10, ref);
    CHECK(!memcmp(order + 10, ref, sizeof ref));
    CHECK(memcmp(order, order + 10, sizeof ref) != 0);
    int count[10] = {0};
    for (int i = 0; i < 10; i++) count[order[i]]++;
    int once = 1;
    for (int i = 0; i < 10; i++) once &= count[i] == 1;
    CHECK(once);
    ot_batcher_state st = ot_batcher_get_state(b);
    CHECK(st.epoch == 2 && st.cursor == 0 && st.seed == 123);
    ot_batcher_free(b);

    /* same seed: same order; another seed: another order */
    int64_t again[20];
    b = make_batcher(ds, 4, true, false, 123);
    read_batches(b, 6, again, NULL, NULL);
    CHECK(!memcmp(order, again, sizeof again));
    ot_batcher_free(b);
    b = make_batcher(ds, 4, true, false, 124);
    read_batches(b, 6, again, NULL, NULL);
    CHECK(memcmp(order, again, sizeof again) != 0);
    ot_batcher_free(b);

    /* no shuffle: file order, every epoch */
    b = make_batcher(ds, 3, false, false, 1);
    CHECK(read_batches(b, 8, order, rows, ends) == 20);
    int inorder = 1;
    for (int i = 0; i < 20; i++) inorder &= order[i] == i % 10;
    CHECK(inorder);
    CHECK(rows[3] == 1 && ends[3] && !ends[2]);
    ot_batcher_free(b);

    /* drop_last: the partial batch is skipped */
    b = make_batcher(ds, 4, true, true, 5);
    CHECK(ot_batcher_batches_per_epoch(b) == 2);
    CHECK(read_batches(b, 4, order, rows, ends) == 16);
    CHECK(rows[1] == 4 && ends[1] && !ends[0] && ends[3]);
    ot_batcher_permutation(5, 1, 10, ref);
    CHECK(!memcmp(order + 8, ref, 8 * sizeof(int64_t)));
    ot_batcher_free(b);

    /* a batch larger than the data: one batch of everything, or none with drop_last */
    b = make_batcher(ds, 64, false, false, 5);
    CHECK(read_batches(b, 2, order, rows, ends) == 20 && rows[0] == 10 && ends[0]);
    ot_batcher_free(b);
    const int64_t three = 3;
    ot_batch_binding bb = bind_of("x", OT_FLOAT, 1, &three);
    CHECK_ERR(ot_batcher_create(ds, &bb, 1, 64, false, true, 0, &b), OT_ERR_INVALID_ARG, "fewer than one batch");
    ot_dataset_free(ds);
}

static void test_restore(void) {
    ot_dataset *ds = make_ds(11);
    int64_t all[64], rest[64];
    /* reference: 7 batches of 3 (4 per epoch: 3, 3, 3, 2) */
    ot_batcher *a = make_batcher(ds, 3, true, false, 99);
    int64_t n_all = read_batches(a, 7, all, NULL, NULL);
    ot_batcher_free(a);
    for (int cut = 0; cut <= 6; cut++) {
        a = make_batcher(ds, 3, true, false, 99);
        int64_t skip = read_batches(a, cut, rest, NULL, NULL);
        ot_batcher_state st = ot_batcher_get_state(a);
        ot_batcher_free(a); /* mid-epoch, with a batch prefetched */
        /* a fresh batcher with another seed, restored */
        ot_batcher *b = make_batcher(ds, 3, true, false, 1);
        CHECK(ot_batcher_set_state(b, &st) == OT_OK);
        int64_t got = read_batches(b, 7 - cut, rest, NULL, NULL);
        CHECK_MSG(skip + got == n_all && !memcmp(rest, all + skip, (size_t)got * sizeof(int64_t)), "cut %d", cut);
        ot_batcher_free(b);
    }
    /* restoring the same batcher while its thread holds a prefetched batch */
    a = make_batcher(ds, 3, true, false, 99);
    read_batches(a, 5, rest, NULL, NULL);
    ot_batcher_state st = {0, 3, 99};
    CHECK(ot_batcher_set_state(a, &st) == OT_OK);
    read_batches(a, 2, rest, NULL, NULL);
    CHECK(!memcmp(rest, all + 3, 6 * sizeof(int64_t)));
    /* a cursor at the end of an epoch is the next epoch's start */
    st = (ot_batcher_state){1, 11, 99};
    CHECK(ot_batcher_set_state(a, &st) == OT_OK);
    st = ot_batcher_get_state(a);
    CHECK(st.epoch == 2 && st.cursor == 0);
    st = (ot_batcher_state){0, 12, 99};
    CHECK_ERR(ot_batcher_set_state(a, &st), OT_ERR_INVALID_ARG, "12");
    ot_batcher_free(a);
    ot_dataset_free(ds);
}

static void test_no_alloc_steady_state(void) {
    ot_dataset *ds = make_ds(50);
    ot_batcher *b = make_batcher(ds, 8, true, false, 3);
    ot_tensor **t;
    int64_t r;
    CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK);
    ot_alloc_stats s0 = ot_alloc_get_stats();
    for (int k = 0; k < 40; k++) CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK);
    ot_alloc_stats s1 = ot_alloc_get_stats();
    CHECK(s1.allocations == s0.allocations);
    ot_batcher_free(b);
    /* shutdown before any batch and right after the first */
    b = make_batcher(ds, 8, true, false, 3);
    ot_batcher_free(b);
    for (int k = 0; k < 20; k++) {
        b = make_batcher(ds, 8, k & 1, false, (uint64_t)k);
        CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK);
        ot_batcher_free(b);
    }
    ot_dataset_free(ds);
}

static void test_conversion_and_shapes(void) {
    ot_dataset *ds;
    CHECK(ot_dataset_new(&ds) == OT_OK);
    int64_t id[3] = {4, 2, 3}, n = 4;
    ot_tensor *img, *d64, *lab, *flab;
    ot_tensor_new(OT_UINT8, 3, id, &img);
    ot_tensor_new(OT_DOUBLE, 3, id, &d64);
    ot_tensor_new(OT_INT32, 1, &n, &lab);
    ot_tensor_new(OT_FLOAT, 1, &n, &flab);
    for (int i = 0; i < 24; i++) ((uint8_t *)img->data)[i] = (uint8_t)(i * 10);
    for (int i = 0; i < 24; i++) ((double *)d64->data)[i] = i * 0.5;
    for (int i = 0; i < 4; i++) ((int32_t *)lab->data)[i] = i;
    for (int i = 0; i < 4; i++) ((float *)flab->data)[i] = (float)(3 - i);
    CHECK(ot_dataset_add(ds, "img", img, "img.idx", 1.0 / 255) == OT_OK);
    CHECK(ot_dataset_add(ds, "d", d64, "d.npy", 1.0) == OT_OK);
    CHECK(ot_dataset_add(ds, "labels", lab, "l.npy", 1.0) == OT_OK);
    CHECK(ot_dataset_add(ds, "flab", flab, "f.npy", 1.0) == OT_OK);

    /* (4, 2, 3) uint8 -> (rows, 6) float32 scaled; -> (rows, 1, 2, 3); (rows, -1, 3) */
    const int64_t six = 6, c123[3] = {1, 2, 3}, sym[2] = {-1, 3}, sym2[2] = {2, -1};
    ot_batch_binding bb[6] = {bind_of("img", OT_FLOAT, 1, &six), bind_of("img", OT_FLOAT, 3, c123),
                              bind_of("d", OT_FLOAT, 2, sym), bind_of("labels", OT_INT64, 0, NULL),
                              bind_of("flab", OT_INT64, 0, NULL), bind_of("d", OT_DOUBLE, 2, sym2)};
    bb[3].n_classes = 4;
    ot_batcher *b;
    CHECK_MSG(ot_batcher_create(ds, bb, 6, 3, false, false, 0, &b) == OT_OK, "%s", ot_last_error());
    ot_tensor **t;
    int64_t r;
    CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK && r == 3);
    CHECK(t[0]->dtype == OT_FLOAT && t[0]->rank == 2 && t[0]->dims[1] == 6);
    CHECK(t[1]->rank == 4 && t[1]->dims[1] == 1 && t[1]->dims[2] == 2 && t[1]->dims[3] == 3);
    CHECK(t[2]->rank == 3 && t[2]->dims[1] == 2 && t[2]->dims[2] == 3);
    CHECK(t[5]->rank == 3 && t[5]->dims[1] == 2 && t[5]->dims[2] == 3 && t[5]->dtype == OT_DOUBLE);
    CHECK(t[3]->dtype == OT_INT64 && t[3]->rank == 1 && t[4]->dtype == OT_INT64);
    CHECK_CLOSE(((float *)t[0]->data)[7], 70.0f / 255, 1e-6, 0);
    CHECK_CLOSE(((float *)t[1]->data)[17], 170.0f / 255, 1e-6, 0);
    CHECK(((float *)t[2]->data)[13] == 6.5f && ((double *)t[5]->data)[13] == 6.5);
    CHECK(((int64_t *)t[3]->data)[2] == 2 && ((int64_t *)t[4]->data)[0] == 3);
    CHECK(strcmp(ot_tensor_name(t[0]), "img") == 0);
    CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK && r == 1);
    CHECK(t[0]->dims[0] == 1 && ((int64_t *)t[3]->data)[0] == 3);
    CHECK_CLOSE(((float *)t[0]->data)[5], 230.0f / 255, 1e-6, 0);
    ot_batcher_free(b);

    /* mismatches and unknown arrays */
    const int64_t five = 5, big[2] = {4, -1}, two3[2] = {3, 2};
    ot_batch_binding bad = bind_of("img", OT_FLOAT, 1, &five);
    CHECK_ERR(ot_batcher_create(ds, &bad, 1, 2, false, false, 0, &b), OT_ERR_SHAPE, "img.idx, array 'img'");
    CHECK(contains(ot_last_error(), "(2, 3) (6 elements)") && contains(ot_last_error(), "(5)"));
    bad = bind_of("img", OT_FLOAT, 2, big);
    CHECK_ERR(ot_batcher_create(ds, &bad, 1, 2, false, false, 0, &b), OT_ERR_SHAPE, "(4, -1)");
    bad = bind_of("img", OT_FLOAT, 2, two3); /* same count, other layout: a reshape */
    CHECK(ot_batcher_create(ds, &bad, 1, 2, false, false, 0, &b) == OT_OK);
    ot_batcher_free(b);
    bad = bind_of("nope", OT_FLOAT, -1, NULL);
    CHECK_ERR(ot_batcher_create(ds, &bad, 1, 2, false, false, 0, &b), OT_ERR_INVALID_ARG, "'img', 'd'");

    /* sample counts differ: both arrays, files and counts named */
    int64_t n5 = 5;
    ot_tensor *odd;
    ot_tensor_new(OT_FLOAT, 1, &n5, &odd);
    CHECK_ERR(ot_dataset_add(ds, "odd", odd, "odd.npy", 1.0), OT_ERR_SHAPE, "odd.npy: array 'odd' has 5 samples");
    CHECK(contains(ot_last_error(), "'img' (img.idx) has 4"));
    ot_tensor_new(OT_FLOAT, 1, &n, &odd);
    CHECK_ERR(ot_dataset_add(ds, "d", odd, "d2.npy", 1.0), OT_ERR_INVALID_ARG, "already came from d.npy");
    ot_dataset_free(ds);
}

static void test_value_checks(void) {
    ot_dataset *ds = make_ds(12);
    float *x = (float *)((ot_tensor *)ot_dataset_get(ds, "x"))->data;
    int64_t *y = (int64_t *)((ot_tensor *)ot_dataset_get(ds, "labels"))->data;
    ot_batcher *b = NULL;
    x[7 * 3 + 1] = NAN;
    CHECK_ERR(ot_batcher_create(ds, &(ot_batch_binding){.array = "x", .dtype = OT_FLOAT, .rank = -1}, 1, 4, true,
                                false, 0, &b),
              OT_ERR_NUMERIC, "x.npy, array 'x', sample 7: element 1 is NaN");
    x[7 * 3 + 1] = INFINITY;
    CHECK_ERR(ot_batcher_create(ds, &(ot_batch_binding){.array = "x", .dtype = OT_FLOAT, .rank = -1}, 1, 4, true,
                                false, 0, &b),
              OT_ERR_NUMERIC, "sample 7: element 1 is +Inf");
    x[7 * 3 + 1] = 1e6f; /* fine in float32, not in float16 */
    CHECK_ERR(ot_batcher_create(ds, &(ot_batch_binding){.array = "x", .dtype = OT_FLOAT16, .rank = -1}, 1, 4, true,
                                false, 0, &b),
              OT_ERR_NUMERIC, "overflows float16");
    x[7 * 3 + 1] = 1.0f;
    ot_batch_binding lb = {.array = "labels", .target = "labels", .dtype = OT_INT64, .rank = 0, .n_classes = 5};
    y[9] = 5;
    CHECK_ERR(ot_batcher_create(ds, &lb, 1, 4, true, false, 0, &b), OT_ERR_INVALID_ARG,
              "y.npy, array 'labels', sample 9: labels value 5 is outside the class range [0, 5)");
    y[9] = -100;
    CHECK_ERR(ot_batcher_create(ds, &lb, 1, 4, true, false, 0, &b), OT_ERR_INVALID_ARG, "value -100");
    lb.has_ignore_index = true;
    lb.ignore_index = -100;
    CHECK(ot_batcher_create(ds, &lb, 1, 4, true, false, 0, &b) == OT_OK);
    ot_batcher_free(b);
    /* into int8: out of range; float x into int64: not whole */
    y[9] = 300;
    CHECK_ERR(ot_batcher_create(ds, &(ot_batch_binding){.array = "labels", .dtype = OT_INT8, .rank = 0}, 1, 4, true,
                                false, 0, &b),
              OT_ERR_TYPE, "sample 9: element 0 is 300, outside the range of int8");
    x[4 * 3] = 0.5f;
    CHECK_ERR(ot_batcher_create(ds, &(ot_batch_binding){.array = "x", .dtype = OT_INT64, .rank = -1}, 1, 4, true,
                                false, 0, &b),
              OT_ERR_TYPE, "sample 4: element 0 is 0.5, not a whole number");
    ot_dataset_free(ds);
}

/* ---- files ---------------------------------------------------------------- */

static void le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A stored (uncompressed) zip of .npy members, as np.savez writes it. */
static void write_npz(const char *path, int n, const char *const *names, ot_tensor *const *ts) {
    static uint8_t buf[1 << 16], cd[4096];
    size_t len = 0, cdn = 0;
    for (int i = 0; i < n; i++) {
        void *npy;
        size_t nb;
        if (ot_npy_encode(ts[i], &npy, &nb)) abort();
        char member[64];
        snprintf(member, sizeof member, "%s.npy", names[i]);
        uint16_t ml = (uint16_t)strlen(member);
        uint32_t crc = (uint32_t)crc32(0, npy, (uInt)nb);
        uint8_t *h = buf + len, *c = cd + cdn;
        memset(h, 0, 30);
        le(h, 0x04034b50, 4), le(h + 4, 20, 2), le(h + 14, crc, 4), le(h + 18, nb, 4), le(h + 22, nb, 4);
        le(h + 26, ml, 2);
        memcpy(h + 30, member, ml);
        memset(c, 0, 46);
        le(c, 0x02014b50, 4), le(c + 4, 20, 2), le(c + 6, 20, 2), le(c + 16, crc, 4), le(c + 20, nb, 4);
        le(c + 24, nb, 4), le(c + 28, ml, 2), le(c + 42, len, 4);
        memcpy(c + 46, member, ml);
        cdn += 46 + ml;
        len += 30 + ml;
        memcpy(buf + len, npy, nb);
        len += nb;
        ot_free(npy);
    }
    memcpy(buf + len, cd, cdn);
    uint8_t *e = buf + len + cdn;
    memset(e, 0, 22);
    le(e, 0x06054b50, 4), le(e + 8, (uint64_t)n, 2), le(e + 10, (uint64_t)n, 2), le(e + 12, cdn, 4);
    le(e + 16, len, 4);
    write_file(path, buf, len + cdn + 22);
}

/* IDX (n, 2, 2) uint8 with value 4 * i + j. */
static size_t idx_bytes(uint8_t *out, uint32_t n) {
    uint8_t h[16] = {0, 0, 0x08, 3};
    h[4] = (uint8_t)(n >> 24), h[5] = (uint8_t)(n >> 16), h[6] = (uint8_t)(n >> 8), h[7] = (uint8_t)n;
    h[11] = 2, h[15] = 2;
    memcpy(out, h, 16);
    for (uint32_t i = 0; i < 4 * n; i++) out[16 + i] = (uint8_t)i;
    return 16 + 4 * (size_t)n;
}

static void test_files(void) {
    ot_dataset *ds;
    ot_data_options opt = {.input_scale = 0.5};
    /* .npy + IDX (gzip) + labels from a .npy */
    int64_t n = 6, xd[2] = {6, 4};
    ot_tensor *x, *y;
    ot_tensor_new(OT_FLOAT, 2, xd, &x);
    ot_tensor_new(OT_UINT8, 1, &n, &y);
    for (int i = 0; i < 24; i++) ((float *)x->data)[i] = (float)i;
    for (int i = 0; i < 6; i++) ((uint8_t *)y->data)[i] = (uint8_t)(i % 3);
    CHECK(ot_tensor_save_npy(x, tmp_path("x.npy")) == OT_OK);
    CHECK(ot_tensor_save_npy(y, tmp_path("y.npy")) == OT_OK);
    uint8_t idx[16 + 64];
    size_t nb = idx_bytes(idx, 6);
    gzFile gz = gzopen(tmp_path("img.idx.gz"), "wb");
    gzwrite(gz, idx, (unsigned)nb);
    gzclose(gz);
    write_file(tmp_path("img-idx3-ubyte"), idx, nb);
    write_file(tmp_path("short-idx3-ubyte"), idx, nb - 3);

    char spec[300];
    CHECK(ot_dataset_new(&ds) == OT_OK);
    snprintf(spec, sizeof spec, "x=%s", tmp_path("x.npy"));
    CHECK_MSG(ot_dataset_add_spec(ds, spec, &opt) == OT_OK, "%s", ot_last_error());
    snprintf(spec, sizeof spec, "img=%s", tmp_path("img.idx.gz"));
    CHECK_MSG(ot_dataset_add_spec(ds, spec, &opt) == OT_OK, "%s", ot_last_error());
    CHECK(ot_dataset_add_file(ds, "raw", tmp_path("img-idx3-ubyte"), &opt) == OT_OK);
    CHECK(ot_dataset_add_file(ds, "labels", tmp_path("y.npy"), &opt) == OT_OK);
    CHECK(ot_dataset_samples(ds) == 6 && ot_dataset_count(ds) == 4);
    CHECK(ot_dataset_scale(ds, 1) == 0.5 && ot_dataset_scale(ds, 3) == 1.0); /* never the labels */
    const ot_tensor *im = ot_dataset_get(ds, "img");
    CHECK(im && im->dtype == OT_UINT8 && im->rank == 3 && ((uint8_t *)im->data)[23] == 23);
    CHECK(!memcmp(im->data, ot_dataset_get(ds, "raw")->data, 24));
    /* IDX (6, 2, 2) uint8 -> (rows, 1, 4) float32 * 0.5; uint8 labels -> int64 */
    const int64_t c14[2] = {1, 4};
    ot_batch_binding bb[3] = {bind_of("img", OT_FLOAT, 2, c14), bind_of("labels", OT_INT64, 0, NULL),
                              bind_of("x", OT_FLOAT, -1, NULL)};
    bb[1].n_classes = 3;
    ot_batcher *b;
    CHECK_MSG(ot_batcher_create(ds, bb, 3, 4, false, false, 0, &b) == OT_OK, "%s", ot_last_error());
    ot_tensor **t;
    int64_t r;
    CHECK(ot_batcher_next(b, &t, &r, NULL) == OT_OK && r == 4);
    CHECK(((float *)t[0]->data)[5] == 2.5f && ((int64_t *)t[1]->data)[2] == 2 && ((float *)t[2]->data)[9] == 9.0f);
    ot_batcher_free(b);
    /* errors name the file: truncated, no name, missing, sample count */
    CHECK_ERR(ot_dataset_add_file(ds, "s", tmp_path("short-idx3-ubyte"), &opt), OT_ERR_PARSE, "short-idx3-ubyte");
    CHECK_ERR(ot_dataset_add_spec(ds, tmp_path("x.npy"), &opt), OT_ERR_INVALID_ARG, "NAME=");
    CHECK_ERR(ot_dataset_add_spec(ds, "q=/nonexistent/q.npy", &opt), OT_ERR_IO, "/nonexistent/q.npy");
    int64_t d7[2] = {7, 1};
    ot_tensor *z7;
    ot_tensor_new(OT_FLOAT, 2, d7, &z7);
    ot_tensor_save_npy(z7, tmp_path("z7.npy"));
    ot_tensor_free(z7);
    CHECK_ERR(ot_dataset_add_file(ds, "z", tmp_path("z7.npy"), &opt), OT_ERR_SHAPE, "has 7 samples");
    CHECK(contains(ot_last_error(), "z7.npy") && contains(ot_last_error(), "x.npy) has 6"));
    ot_dataset_free(ds);

    /* .npz: every array by name; NAME=FILE.npz picks one */
    const char *names[2] = {"input", "labels"};
    ot_tensor *arrs[2] = {x, y};
    write_npz(tmp_path("d.npz"), 2, names, arrs);
    CHECK(ot_dataset_new(&ds) == OT_OK);
    CHECK_MSG(ot_dataset_add_spec(ds, tmp_path("d.npz"), &opt) == OT_OK, "%s", ot_last_error());
    CHECK(ot_dataset_count(ds) == 2 && ot_dataset_get(ds, "input") && ot_dataset_get(ds, "labels"));
    CHECK(ot_dataset_get(ds, "labels")->dtype == OT_UINT8 && ot_dataset_scale(ds, 1) == 1.0);
    CHECK_ERR(ot_dataset_add_spec(ds, tmp_path("d.npz"), &opt), OT_ERR_INVALID_ARG, "given twice");
    CHECK(ot_dataset_count(ds) == 2);
    snprintf(spec, sizeof spec, "input2=%s", tmp_path("d.npz"));
    CHECK_ERR(ot_dataset_add_spec(ds, spec, &opt), OT_ERR_INVALID_ARG, "'input', 'labels'");
    ot_dataset_free(ds);
    ot_tensor_free(x);
    ot_tensor_free(y);

    /* CSV: labels from the "label" column, the last, or a named one */
    const char *csv = "a,label,b\n1,0,2\n3,1,4\n5,2,6\n";
    write_file(tmp_path("t.csv"), csv, strlen(csv));
    CHECK(ot_dataset_new(&ds) == OT_OK);
    snprintf(spec, sizeof spec, "feat=%s", tmp_path("t.csv"));
    CHECK_MSG(ot_dataset_add_spec(ds, spec, NULL) == OT_OK, "%s", ot_last_error());
    const ot_tensor *f = ot_dataset_get(ds, "feat"), *l = ot_dataset_get(ds, "labels");
    CHECK(f && f->dtype == OT_FLOAT && f->rank == 2 && f->dims[0] == 3 && f->dims[1] == 2);
    CHECK(((float *)f->data)[3] == 4.0f && l && l->dtype == OT_INT64 && ((int64_t *)l->data)[2] == 2);
    ot_dataset_free(ds);
    const char *csv2 = "p;q;r\n1;2;0.5\n3;4;1.5\n";
    write_file(tmp_path("u.csv"), csv2, strlen(csv2));
    ot_data_options o2 = {.labels_name = "target", .csv_delimiter = ';'};
    CHECK(ot_dataset_new(&ds) == OT_OK);
    CHECK_MSG(ot_dataset_add_file(ds, "in", tmp_path("u.csv"), &o2) == OT_OK, "%s", ot_last_error());
    l = ot_dataset_get(ds, "target");
    CHECK(l && l->dtype == OT_FLOAT && ((float *)l->data)[1] == 1.5f);
    ot_dataset_free(ds);
    o2.label_column = "p";
    CHECK(ot_dataset_new(&ds) == OT_OK);
    CHECK(ot_dataset_add_file(ds, "in", tmp_path("u.csv"), &o2) == OT_OK);
    f = ot_dataset_get(ds, "in");
    CHECK(f->dims[1] == 2 && ((float *)f->data)[0] == 2.0f && ((int64_t *)ot_dataset_get(ds, "target")->data)[1] == 3);
    /* a NaN in a CSV is named by data row */
    const char *csv3 = "v,label\n1,0\nnan,1\n";
    write_file(tmp_path("n.csv"), csv3, strlen(csv3));
    ot_dataset_free(ds);
    CHECK(ot_dataset_new(&ds) == OT_OK);
    if (ot_dataset_add_file(ds, "v", tmp_path("n.csv"), NULL) == OT_OK) {
        ot_batch_binding vb = bind_of("v", OT_FLOAT, -1, NULL);
        CHECK_ERR(ot_batcher_create(ds, &vb, 1, 2, false, false, 0, &b), OT_ERR_NUMERIC,
                  "sample 1 (data row 2): element 0 is NaN");
    } else {
        CHECK(contains(ot_last_error(), "n.csv")); /* the reader may refuse "nan" itself */
    }
    ot_dataset_free(ds);
    CHECK(ot_dataset_new(&ds) == OT_OK);
    /* labels=FILE.csv: the whole one-column table is the labels */
    const char *lab = "label\n1\n2\n";
    write_file(tmp_path("l.csv"), lab, strlen(lab));
    CHECK_MSG(ot_dataset_add_file(ds, "labels", tmp_path("l.csv"), NULL) == OT_OK, "%s", ot_last_error());
    l = ot_dataset_get(ds, "labels");
    CHECK(l && l->rank == 1 && l->dims[0] == 2 && l->dtype == OT_INT64 && ((int64_t *)l->data)[1] == 2);
    ot_dataset_free(ds);
    CHECK(ot_dataset_new(&ds) == OT_OK);
    const char *bad = "a,label\n1,0\nx,1\n";
    write_file(tmp_path("bad.csv"), bad, strlen(bad));
    CHECK_ERR(ot_dataset_add_file(ds, "a", tmp_path("bad.csv"), NULL), OT_ERR_PARSE, "bad.csv");
    CHECK(ot_dataset_count(ds) == 0);
    ot_dataset_free(ds);
}

int main(void) {
    if (!scratch_begin("ot_batcher")) return 2;
    test_permutation();
    test_epochs();
    test_restore();
    test_no_alloc_steady_state();
    test_conversion_and_shapes();
    test_value_checks();
    test_files();
    scratch_end();
    return check_done();
}
