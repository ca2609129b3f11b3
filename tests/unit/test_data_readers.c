/* Data readers: .npy, .npz, IDX, CSV.  Files are written to a temporary
   folder, byte-exact expectations are built here from the formats' specs, and
   every reader is fed truncated and corrupted variants (it must fail cleanly,
   never crash: run under ASan/UBSan to see that). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "scratch.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/core/shape.h"
#include "src/data/csv.h"
#include "src/data/idx.h"
#include "src/data/npy.h"
#include "src/data/npz.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* ---- .npy ---------------------------------------------------------------------- */

/* numpy's layout: magic, version, LE header length, dict, spaces, '\n', data at a multiple of 64. */
static size_t build_npy(uint8_t *out, int major, const char *dict, const void *data, size_t n) {
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) out[8 + b] = (uint8_t)(hlen >> (8 * b));
    memcpy(out + pre, dict, dl);
    memset(out + pre + dl, ' ', total - pre - dl - 1);
    out[total - 1] = '\n';
    memcpy(out + total, data, n);
    return total + n;
}

static void test_npy_write_exact(void) {
    int64_t dims[2] = {3, 4};
    ot_tensor *t;
    ot_tensor_new(OT_FLOAT, 2, dims, &t);
    for (int i = 0; i < 12; i++) ((float *)t->data)[i] = (float)i;
    const char *p = tmp_path("a.npy");
    write_file(p, "old contents", 12); /* replaced atomically */
    CHECK(ot_tensor_save_npy(t, p) == OT_OK);
    uint8_t want[256];
    size_t wn = build_npy(want, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", t->data, 48);
    size_t n;
    uint8_t *got = read_file(p, &n);
    CHECK(got && n == wn && wn == 176 && !memcmp(got, want, n));
    free(got);
    ot_tensor_free(t);
    /* rank 0 and rank 1 spell their tuples "()" and "(5,)"; bool is "|b1" */
    ot_tensor_new(OT_BOOL, 0, NULL, &t);
    ((uint8_t *)t->data)[0] = 1;
    CHECK(ot_tensor_save_npy(t, p) == OT_OK);
    wn = build_npy(want, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", t->data, 1);
    got = read_file(p, &n);
    CHECK(got && n == wn && !memcmp(got, want, n));
    free(got);
    ot_tensor_free(t);
    int64_t five = 5;
    ot_tensor_new(OT_INT64, 1, &five, &t);
    CHECK(ot_tensor_save_npy(t, p) == OT_OK);
    wn = build_npy(want, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", t->data, 40);
    got = read_file(p, &n);
    CHECK(got && n == wn && !memcmp(got, want, n));
    free(got);
    ot_tensor_free(t);
    /* no temporary files are left behind */
    DIR *d = opendir(tmpdir);
    int others = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "a.npy")) others++;
    if (d) closedir(d);
    CHECK(others == 0);
    /* bfloat16 has no .npy type; a descriptor without data cannot be saved */
    ot_tensor_new(OT_BFLOAT16, 1, &five, &t);
    CHECK(ot_tensor_save_npy(t, p) == OT_ERR_UNSUPPORTED);
    ot_tensor_free(t);
}

static void test_npy_roundtrip(void) {
    const ot_dtype types[] = {OT_FLOAT16, OT_FLOAT, OT_DOUBLE, OT_INT8, OT_INT16, OT_INT32, OT_INT64, OT_UINT8,
                              OT_UINT16, OT_UINT32, OT_UINT64, OT_BOOL, OT_COMPLEX64, OT_COMPLEX128};
    const int64_t shapes[][3] = {{2, 3, 5}, {0, 4, 1}, {7, 1, 1}};
    const int ranks[] = {3, 2, 1};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (int si = 0; si < 3; si++) {
            ot_tensor *t, *r = NULL;
            ot_tensor_new(types[ti], ranks[si], shapes[si], &t);
            uint8_t *b = t->data;
            for (size_t i = 0; i < ot_tensor_nbytes(t); i++) b[i] = (uint8_t)rnd();
            if (types[ti] == OT_BOOL)
                for (size_t i = 0; i < ot_tensor_nbytes(t); i++) b[i] &= 1;
            /* the encoder shares the header code with ot_tensor_save_npy (fsync is slow) */
            void *enc = NULL;
            size_t en = 0;
            CHECK(ot_npy_encode(t, &enc, &en) == OT_OK);
            CHECK_MSG(ot_npy_read_buffer(enc, en, "rt", &r) == OT_OK, "%s", ot_last_error());
            ot_free(enc);
            CHECK(r && r->dtype == t->dtype && ot_shape_equal(r->rank, r->dims, t->rank, t->dims) &&
                  !memcmp(r->data, t->data, ot_tensor_nbytes(t)));
            ot_tensor_free(r);
            ot_tensor_free(t);
        }
}

static void test_npy_variants(void) {
    uint8_t buf[512];
    ot_tensor *t = NULL;
    /* version 2.0 and 3.0, double quotes, Python 2 'L' dims, an extra key */
    int32_t v[6] = {1, 2, 3, 4, 5, 6};
    size_t n = build_npy(buf, 2, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L, 3L), 'x': [1, (2,)]}", v, 24);
    CHECK(ot_npy_read_buffer(buf, n, "v2", &t) == OT_OK);
    CHECK(t && t->dtype == OT_INT32 && t->rank == 2 && t->dims[1] == 3 && ((int32_t *)t->data)[5] == 6);
    ot_tensor_free(t);
    n = build_npy(buf, 3, "{'shape': (6,), 'fortran_order': False, 'descr': '<i4'}", v, 24);
    CHECK(ot_npy_read_buffer(buf, n, "v3", &t) == OT_OK && t->rank == 1 && ((int32_t *)t->data)[2] == 3);
    ot_tensor_free(t);
    /* big-endian int32 and float64 are swapped */
    uint8_t be[8] = {0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe};
    n = build_npy(buf, 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be, 8);
    CHECK(ot_npy_read_buffer(buf, n, "be", &t) == OT_OK && ((int32_t *)t->data)[0] == 258 &&
          ((int32_t *)t->data)[1] == -2);
    ot_tensor_free(t);
    uint8_t bed[8] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}; /* pi */
    n = build_npy(buf, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (), }", bed, 8);
    CHECK(ot_npy_read_buffer(buf, n, "bed", &t) == OT_OK && ((double *)t->data)[0] == 3.141592653589793);
    ot_tensor_free(t);
    /* Fortran order (2, 3): column-major [[0, 1, 2], [3, 4, 5]] is stored 0 3 1 4 2 5 */
    float fo[6] = {0, 3, 1, 4, 2, 5};
    n = build_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", fo, 24);
    CHECK(ot_npy_read_buffer(buf, n, "fortran", &t) == OT_OK);
    int ok = t != NULL;
    for (int i = 0; ok && i < 6; i++) ok = ((float *)t->data)[i] == (float)i;
    CHECK(ok);
    ot_tensor_free(t);
    /* bool bytes other than 0/1 are normalised */
    uint8_t bb[3] = {0, 7, 1};
    n = build_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", bb, 3);
    CHECK(ot_npy_read_buffer(buf, n, "b", &t) == OT_OK && ((uint8_t *)t->data)[1] == 1);
    ot_tensor_free(t);

    /* bad headers: each a clean error */
    static const struct {
        const char *dict;
        ot_status want;
    } bad[] = {
        {"{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }", OT_ERR_UNSUPPORTED},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", OT_ERR_UNSUPPORTED},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", OT_ERR_UNSUPPORTED},
        {"{'descr': '<f4', 'shape': (1,), }", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", OT_ERR_PARSE},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", OT_ERR_PARSE},
        {"{'descr': '<f4\\'', 'fortran_order': False, 'shape': (1,), }", OT_ERR_PARSE},
        {"", OT_ERR_PARSE},
    };
    float one = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = build_npy(buf, 1, bad[i].dict, &one, 4);
        t = NULL;
        ot_status s = ot_npy_read_buffer(buf, n, "bad.npy", &t);
        CHECK_MSG(s == bad[i].want && !t, "case %zu: %s", i, ot_last_error());
        CHECK(strstr(ot_last_error(), "bad.npy") != NULL);
    }
    /* bad preambles */
    n = build_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", &one, 4);
    buf[6] = 9;
    CHECK(ot_npy_read_buffer(buf, n, "ver", &t) == OT_ERR_UNSUPPORTED);
    buf[6] = 2; /* a 2.0 header length read from 1.0 bytes: implausible */
    CHECK(ot_npy_read_buffer(buf, n, "len", &t) == OT_ERR_PARSE);
    buf[0] = 'X';
    CHECK(ot_npy_read_buffer(buf, n, "magic", &t) == OT_ERR_PARSE);
}

static void test_npy_truncated_and_fuzzed(void) {
    uint8_t buf[256], work[256];
    double d[4] = {1, 2, 3, 4};
    size_t n = build_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", d, 32);
    const char *p = tmp_path("trunc.npy");
    int clean = 0;
    for (size_t len = 0; len < n; len++) { /* files only for a few lengths: file I/O is slow */
        ot_tensor *t = NULL;
        ot_status s;
        if (len % 16 == 0) {
            write_file(p, buf, len);
            s = ot_npy_read(p, &t);
        } else {
            s = ot_npy_read_buffer(buf, len, p, &t);
        }
        clean += s == OT_ERR_PARSE && !t && strstr(ot_last_error(), p);
    }
    CHECK(clean == (int)n);
    write_file(p, buf, n - 5);
    ot_tensor *t = NULL;
    CHECK(ot_npy_read(p, &t) == OT_ERR_PARSE);
    CHECK_MSG(strstr(ot_last_error(), "truncated") && strstr(ot_last_error(), "32 bytes"), "%s", ot_last_error());
    CHECK(ot_npy_read(tmp_path("missing.npy"), &t) == OT_ERR_IO);
    unlink(p);
    /* random byte flips in the header: error or success, never a crash */
    int handled = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(work, buf, n);
        for (int k = 0, m = 1 + (int)(rnd() % 4); k < m; k++) work[rnd() % 64] = (uint8_t)rnd();
        t = NULL;
        ot_status s = ot_npy_read_buffer(work, n - (rnd() % 2) * (rnd() % n), "fuzz", &t);
        handled += (s == OT_OK) == (t != NULL);
        ot_tensor_free(t);
    }
    CHECK(handled == 3000);
}

/* ---- .npz ------------------------------------------------------------------------ */

/* np.savez and np.savez_compressed of x = arange(6, float32).reshape(2, 3),
   y = [1, -2] (int64), numpy 2.4: local headers carry ZIP64 extras. */
static const unsigned char numpy_npz_stored[530] = {
    0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9, 0x00, 0x2a, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50,
    0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27,
    0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33,
    0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00,
    0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21,
    0x00, 0x9a, 0xfb, 0xf5, 0x23, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x79, 0x2e, 0x6e,
    0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27,
    0x3a, 0x20, 0x27, 0x3c, 0x69, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72,
    0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27,
    0x3a, 0x20, 0x28, 0x32, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x50, 0x4b, 0x01, 0x02, 0x2d, 0x03, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x21, 0x00, 0x4f, 0xe9, 0x00, 0x2a, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x01,
    0x02, 0x2d, 0x03, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x9a, 0xfb, 0xf5, 0x23, 0x90, 0x00, 0x00,
    0x00, 0x90, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0xcf,
    0x00, 0x00, 0x00, 0x79, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00,
    0x66, 0x00, 0x00, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char numpy_npz_deflated[394] = {
    0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9, 0x00, 0x2a, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b,
    0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa2,
    0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc,
    0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a, 0x46, 0x3a, 0x0a, 0xc6, 0x9a, 0x3a, 0x0a, 0xb5,
    0x0a, 0x64, 0x03, 0x2e, 0x06, 0x30, 0x68, 0xb0, 0x07, 0x12, 0x0e, 0x40, 0x04, 0xc4, 0x0d, 0x40, 0xbc, 0xc0, 0x01, 0x00,
    0x50, 0x4b, 0x03, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x9a, 0xfb, 0xf5, 0x23, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00, 0x14, 0x00, 0x79, 0x2e, 0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x90,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b,
    0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x69, 0xa1,
    0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc,
    0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a, 0x46, 0x3a, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a, 0x14,
    0x00, 0x2e, 0x46, 0x06, 0x08, 0xf8, 0xf7, 0x1f, 0x02, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x2d, 0x03, 0x2d, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9, 0x00, 0x2a, 0x55, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x78, 0x2e, 0x6e, 0x70,
    0x79, 0x50, 0x4b, 0x01, 0x02, 0x2d, 0x03, 0x2d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x9a, 0xfb, 0xf5,
    0x23, 0x4b, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x80, 0x01, 0x8c, 0x00, 0x00, 0x00, 0x79, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x02, 0x00, 0x66, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x00, 0x00, 0x00, 0x00,
};

typedef struct zip_builder {
    uint8_t *data;
    size_t n, cap;
    uint8_t cd[4096];
    size_t cdn;
    int entries;
    int zip64; /* saturate CD fields and use ZIP64 extras and end records */
} zip_builder;

static void zput(zip_builder *z, const void *p, size_t n) {
    if (z->n + n > z->cap) {
        z->cap = (z->n + n) * 2;
        z->data = realloc(z->data, z->cap);
    }
    memcpy(z->data + z->n, p, n);
    z->n += n;
}
static void le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void zip_add(zip_builder *z, const char *name, const void *data, size_t n, int method, uint16_t flags) {
    uint8_t comp[8192];
    size_t cn = n;
    if (method == 8) {
        z_stream s = {0};
        deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        s.next_in = (Bytef *)data;
        s.avail_in = (uInt)n;
        s.next_out = comp;
        s.avail_out = sizeof comp;
        deflate(&s, Z_FINISH);
        cn = s.total_out;
        deflateEnd(&s);
    } else {
        memcpy(comp, data, n);
    }
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)n);
    size_t nl = strlen(name), off = z->n;
    uint8_t lh[30] = {0x50, 0x4b, 3, 4, 20, 0};
    le(lh + 6, flags, 2);
    le(lh + 8, (uint64_t)method, 2);
    le(lh + 14, crc, 4);
    le(lh + 18, cn, 4);
    le(lh + 22, n, 4);
    le(lh + 26, nl, 2);
    zput(z, lh, 30);
    zput(z, name, nl);
    zput(z, comp, cn);
    uint8_t *c = z->cd + z->cdn;
    memset(c, 0, 46);
    le(c, 0x02014b50, 4);
    le(c + 8, flags, 2);
    le(c + 10, (uint64_t)method, 2);
    le(c + 16, crc, 4);
    le(c + 20, z->zip64 ? 0xffffffffu : cn, 4);
    le(c + 24, z->zip64 ? 0xffffffffu : n, 4);
    le(c + 28, nl, 2);
    le(c + 30, z->zip64 ? 28 : 0, 2);
    le(c + 42, z->zip64 ? 0xffffffffu : off, 4);
    memcpy(c + 46, name, nl);
    z->cdn += 46 + nl;
    if (z->zip64) { /* usize, csize, offset: the order APPNOTE 4.5.3 fixes */
        uint8_t x[28];
        le(x, 1, 2);
        le(x + 2, 24, 2);
        le(x + 4, n, 8);
        le(x + 12, cn, 8);
        le(x + 20, off, 8);
        memcpy(z->cd + z->cdn, x, 28);
        z->cdn += 28;
    }
    z->entries++;
}

static void zip_finish(zip_builder *z) {
    size_t cd_off = z->n;
    zput(z, z->cd, z->cdn);
    if (z->zip64) {
        uint8_t r[56] = {0}, loc[20] = {0};
        size_t at = z->n;
        le(r, 0x06064b50, 4);
        le(r + 4, 44, 8);
        le(r + 24, (uint64_t)z->entries, 8);
        le(r + 32, (uint64_t)z->entries, 8);
        le(r + 40, z->cdn, 8);
        le(r + 48, cd_off, 8);
        zput(z, r, 56);
        le(loc, 0x07064b50, 4);
        le(loc + 8, at, 8);
        le(loc + 16, 1, 4);
        zput(z, loc, 20);
    }
    uint8_t e[22] = {0};
    le(e, 0x06054b50, 4);
    le(e + 8, z->zip64 ? 0xffff : (uint64_t)z->entries, 2);
    le(e + 10, z->zip64 ? 0xffff : (uint64_t)z->entries, 2);
    le(e + 12, z->zip64 ? 0xffffffffu : z->cdn, 4);
    le(e + 16, z->zip64 ? 0xffffffffu : cd_off, 4);
    zput(z, e, 22);
}

/* An archive with x (float32 (2, 3), stored), a folder entry, y (int64 (300,), deflated). */
static void build_archive(zip_builder *z, int zip64) {
    memset(z, 0, sizeof *z);
    z->zip64 = zip64;
    uint8_t npy[4096];
    float x[6] = {0, 1, 2, 3, 4, 5};
    int64_t y[300];
    for (int i = 0; i < 300; i++) y[i] = i % 7 - 3;
    size_t n = build_npy(npy, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", x, sizeof x);
    zip_add(z, "x.npy", npy, n, 0, 0);
    zip_add(z, "sub/", "", 0, 0, 0);
    n = build_npy(npy, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (300,), }", y, sizeof y);
    zip_add(z, "y.npy", npy, n, 8, 0);
    zip_finish(z);
}

static int check_archive(const char *p, const char *label) {
    ot_npz *z = NULL;
    ot_tensor *x = NULL, *y = NULL;
    int ok = ot_npz_open(p, &z) == OT_OK;
    CHECK_MSG(ok, "%s: %s", label, ot_last_error());
    if (!ok) return 0;
    ok = ot_npz_count(z) == 2 && !strcmp(ot_npz_name(z, 0), "x") && ot_npz_find(z, "y") == 1 && ot_npz_find(z, "q") < 0;
    ok = ok && ot_npz_read(z, 0, &x) == OT_OK && ot_npz_read(z, 1, &y) == OT_OK;
    ok = ok && x->dtype == OT_FLOAT && x->dims[1] == 3 && ((float *)x->data)[5] == 5 && !strcmp(ot_tensor_name(x), "x");
    ok = ok && y->dtype == OT_INT64 && y->rank == 1;
    CHECK_MSG(ok, "%s: %s", label, ot_last_error());
    ot_tensor_free(x);
    ot_tensor_free(y);
    ot_npz_close(z);
    return ok;
}

static void test_npz(void) {
    const char *p = tmp_path("a.npz");
    /* archives written by numpy (np.savez, np.savez_compressed) */
    const struct {
        const unsigned char *b;
        size_t n;
    } np_files[] = {{numpy_npz_stored, sizeof numpy_npz_stored}, {numpy_npz_deflated, sizeof numpy_npz_deflated}};
    for (int k = 0; k < 2; k++) {
        write_file(p, np_files[k].b, np_files[k].n);
        ot_npz *z = NULL;
        ot_tensor *x = NULL, *y = NULL;
        CHECK(ot_npz_open(p, &z) == OT_OK && ot_npz_count(z) == 2);
        CHECK(ot_npz_read(z, ot_npz_find(z, "x"), &x) == OT_OK && ot_npz_read(z, ot_npz_find(z, "y"), &y) == OT_OK);
        CHECK(x && x->dims[0] == 2 && x->dims[1] == 3 && ((float *)x->data)[4] == 4);
        CHECK(y && y->dtype == OT_INT64 && ((int64_t *)y->data)[1] == -2);
        ot_tensor_free(x);
        ot_tensor_free(y);
        ot_npz_close(z);
    }
    /* hand-built archives: plain and ZIP64 */
    zip_builder z;
    for (int zip64 = 0; zip64 < 2; zip64++) {
        build_archive(&z, zip64);
        write_file(p, z.data, z.n);
        check_archive(p, zip64 ? "zip64" : "plain");
        /* every truncation fails cleanly at open or read */
        int clean = 0;
        for (size_t len = 0; len < z.n; len += 19) {
            write_file(p, z.data, len);
            ot_npz *a = NULL;
            if (ot_npz_open(p, &a) != OT_OK) {
                clean++;
                continue;
            }
            ot_tensor *t = NULL;
            int fails = 0;
            for (int i = 0; i < ot_npz_count(a); i++) {
                fails += ot_npz_read(a, i, &t) != OT_OK;
                ot_tensor_free(t);
                t = NULL;
            }
            clean += fails > 0;
            ot_npz_close(a);
        }
        CHECK(clean == (int)((z.n + 18) / 19));
        free(z.data);
    }
    /* a flipped data byte in a stored member: CRC mismatch */
    build_archive(&z, 0);
    z.data[30 + 5 + 128 + 2] ^= 0x40;
    write_file(p, z.data, z.n);
    ot_npz *a = NULL;
    ot_tensor *t = NULL;
    CHECK(ot_npz_open(p, &a) == OT_OK);
    CHECK(ot_npz_read(a, 0, &t) == OT_ERR_PARSE && !t);
    CHECK_MSG(strstr(ot_last_error(), "CRC") && strstr(ot_last_error(), "a.npz:x"), "%s", ot_last_error());
    CHECK(ot_npz_read(a, 1, &t) == OT_OK); /* the other member is intact */
    ot_tensor_free(t);
    CHECK(ot_npz_read(a, 2, &t) == OT_ERR_INVALID_ARG);
    ot_npz_close(a);
    free(z.data);
    /* random corruption anywhere: never a crash */
    build_archive(&z, 1);
    uint8_t *work = malloc(z.n);
    int handled = 0;
    for (int it = 0; it < 150; it++) {
        memcpy(work, z.data, z.n);
        for (int k = 0; k < 3; k++) work[rnd() % z.n] = (uint8_t)rnd();
        write_file(p, work, z.n);
        int ok = 1;
        if (ot_npz_open(p, &a) == OT_OK) {
            for (int i = 0; i < ot_npz_count(a); i++) {
                t = NULL;
                ot_status s = ot_npz_read(a, i, &t);
                ok &= (s == OT_OK) == (t != NULL);
                ot_tensor_free(t);
            }
            ot_npz_close(a);
        }
        handled += ok;
    }
    CHECK(handled == 150);
    free(work);
    free(z.data);
    /* unsupported: encryption, other compression methods */
    memset(&z, 0, sizeof z);
    uint8_t npy[256];
    float one = 1;
    size_t n = build_npy(npy, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", &one, 4);
    zip_add(&z, "e.npy", npy, n, 0, 1);
    zip_add(&z, "m.npy", npy, n, 12, 0);
    zip_finish(&z);
    write_file(p, z.data, z.n);
    CHECK(ot_npz_open(p, &a) == OT_OK);
    CHECK(ot_npz_read(a, 0, &t) == OT_ERR_UNSUPPORTED);
    CHECK(ot_npz_read(a, 1, &t) == OT_ERR_UNSUPPORTED);
    ot_npz_close(a);
    free(z.data);
    write_file(p, "PK\5\6 not really", 16);
    CHECK(ot_npz_open(p, &a) == OT_ERR_PARSE);
    unlink(p);
}

/* ---- IDX --------------------------------------------------------------------------- */

static size_t build_idx(uint8_t *out, int type, int rank, const uint32_t *dims, const void *be_data, size_t n) {
    out[0] = out[1] = 0;
    out[2] = (uint8_t)type;
    out[3] = (uint8_t)rank;
    for (int d = 0; d < rank; d++)
        for (int b = 0; b < 4; b++) out[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    memcpy(out + 4 + 4 * rank, be_data, n);
    return 4 + 4 * (size_t)rank + n;
}

static void write_gz(const char *path, const void *data, size_t n) {
    gzFile g = gzopen(path, "wb");
    gzwrite(g, data, (unsigned)n);
    gzclose(g);
}

static void test_idx(void) {
    uint8_t buf[1024], data[512];
    ot_tensor *t = NULL;
    const char *raw = tmp_path("a.idx"), *gz = tmp_path("a.idx.gz");
    /* ubyte (2, 3, 4) */
    for (int i = 0; i < 24; i++) data[i] = (uint8_t)(i * 10);
    uint32_t d3[3] = {2, 3, 4};
    size_t n = build_idx(buf, 0x08, 3, d3, data, 24);
    write_file(raw, buf, n);
    write_gz(gz, buf, n);
    for (int k = 0; k < 2; k++) {
        CHECK(ot_idx_read(k ? gz : raw, &t) == OT_OK);
        CHECK(t && t->dtype == OT_UINT8 && t->rank == 3 && t->dims[2] == 4 && ((uint8_t *)t->data)[23] == 230);
        ot_tensor_free(t);
        t = NULL;
    }
    /* big-endian int16, int32, float32, float64 and int8 */
    static const struct {
        int type;
        ot_dtype dt;
        uint8_t be[8];
        double want;
    } types[] = {{0x0B, OT_INT16, {0xff, 0xfe}, -2},         {0x0C, OT_INT32, {0, 1, 0, 2}, 65538},
                 {0x0D, OT_FLOAT, {0x3f, 0xc0, 0, 0}, 1.5},  {0x0E, OT_DOUBLE, {0xc0, 0x04, 0, 0, 0, 0, 0, 0}, -2.5},
                 {0x09, OT_INT8, {0x80}, -128}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint32_t one = 1;
        n = build_idx(buf, types[i].type, 1, &one, types[i].be, ot_dtype_size(types[i].dt));
        write_gz(gz, buf, n);
        CHECK(ot_idx_read(gz, &t) == OT_OK);
        CHECK_MSG(t && t->dtype == types[i].dt && ot_load_f64(t->dtype, t->data, 0) == types[i].want, "type %x",
                  types[i].type);
        ot_tensor_free(t);
        t = NULL;
    }
    /* truncation, raw and gzip: the message says how many bytes were expected */
    n = build_idx(buf, 0x08, 3, d3, data, 24);
    for (size_t len = 0; len < n; len += 3) {
        write_file(raw, buf, len);
        write_gz(gz, buf, len);
        CHECK(ot_idx_read(raw, &t) == OT_ERR_PARSE && !t);
        CHECK(ot_idx_read(gz, &t) == OT_ERR_PARSE && !t);
    }
    CHECK_MSG(strstr(ot_last_error(), "24 bytes") && strstr(ot_last_error(), "truncated"), "%s", ot_last_error());
    /* a gzip file cut short (compressed stream truncated) */
    write_gz(gz, buf, n);
    size_t gn;
    uint8_t *g = read_file(gz, &gn);
    write_file(gz, g, gn - 12);
    CHECK(ot_idx_read(gz, &t) == OT_ERR_PARSE);
    free(g);
    /* bad headers */
    uint32_t huge[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    n = build_idx(buf, 0x0E, 4, huge, data, 16);
    write_file(raw, buf, n);
    CHECK(ot_idx_read(raw, &t) == OT_ERR_PARSE);
    n = build_idx(buf, 0x08, 2, huge, data, 16);
    write_file(raw, buf, n); /* plausible shape, far more data than the file has */
    CHECK(ot_idx_read(raw, &t) == OT_ERR_PARSE);
    n = build_idx(buf, 0x0A, 1, d3, data, 2);
    write_file(raw, buf, n);
    CHECK(ot_idx_read(raw, &t) == OT_ERR_PARSE);
    buf[2] = 0x08;
    buf[3] = 9;
    write_file(raw, buf, 64);
    CHECK(ot_idx_read(raw, &t) == OT_ERR_UNSUPPORTED);
    write_file(raw, "\x01\x00\x08\x01", 4);
    CHECK(ot_idx_read(raw, &t) == OT_ERR_PARSE);
    write_file(gz, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage", 25);
    CHECK(ot_idx_read(gz, &t) != OT_OK && !t);
    CHECK(ot_idx_read(tmp_path("none.idx"), &t) == OT_ERR_IO);
    unlink(raw);
    unlink(gz);
}

/* Debian's dataset-fashion-mnist package (skipped when not installed). */
static void test_fashion_mnist(void) {
    static const char *dirs[] = {"/usr/share/datasets/fashion-mnist", "/usr/share/dataset-fashion-mnist"};
    char images[256], labels[256];
    for (int k = 0; k < 2; k++) {
        snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", dirs[k]);
        snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", dirs[k]);
        if (access(images, R_OK) == 0 && access(labels, R_OK) == 0) break;
        images[0] = 0;
    }
    if (!images[0]) {
        printf("skipped: Fashion-MNIST (dataset-fashion-mnist) is not installed\n");
        return;
    }
    ot_tensor *x = NULL, *y = NULL;
    CHECK_MSG(ot_idx_read(images, &x) == OT_OK, "%s", ot_last_error());
    CHECK_MSG(ot_idx_read(labels, &y) == OT_OK, "%s", ot_last_error());
    CHECK(x && x->dtype == OT_UINT8 && x->rank == 3 && x->dims[0] == 10000 && x->dims[1] == 28 && x->dims[2] == 28);
    CHECK(y && y->dtype == OT_UINT8 && y->rank == 1 && y->dims[0] == 10000);
    int in_range = 1, counts[10] = {0};
    for (int64_t i = 0; y && i < 10000; i++) {
        uint8_t c = ((uint8_t *)y->data)[i];
        in_range &= c < 10;
        if (c < 10) counts[c]++;
    }
    CHECK(in_range && counts[0] == 1000 && counts[9] == 1000); /* the test split is balanced */
    ot_tensor_free(x);
    ot_tensor_free(y);
}

/* ---- CSV ------------------------------------------------------------------------------ */

static ot_status csv_from(const char *text, char delim, ot_dtype dt, ot_csv **out) {
    ot_csv_options o = {delim, dt};
    const char *p = tmp_path("t.csv");
    write_file(p, text, strlen(text));
    return ot_csv_read(p, &o, out);
}

static void test_csv(void) {
    ot_csv *c = NULL;
    CHECK(csv_from("\xEF\xBB\xBF" "a, \"b,\"\"q\"\"\" ,label\r\n 1,2 ,0\r\n\r\n3.5,-4e2,1\n  \n-0,inf,2", 0, OT_UNDEFINED,
                   &c) == OT_OK);
    CHECK(c && c->cols == 3 && c->rows == 3 && !strcmp(c->names[1], "b,\"q\"") && !strcmp(c->names[2], "label"));
    CHECK(c && c->data->dtype == OT_FLOAT && ((float *)c->data->data)[4] == -400.0f &&
          isinf(((float *)c->data->data)[7]));
    int col = -1;
    CHECK(ot_csv_label_column(c, NULL, &col) == OT_OK && col == 2);
    CHECK(ot_csv_label_column(c, "a", &col) == OT_OK && col == 0);
    CHECK(ot_csv_label_column(c, "-2", &col) == OT_OK && col == 1);
    CHECK(ot_csv_label_column(c, "nope", &col) == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "'label'") != NULL, "%s", ot_last_error());
    ot_tensor *f = NULL, *l = NULL;
    CHECK(ot_csv_split(c, 2, OT_INT64, &f, &l) == OT_OK);
    CHECK(f && f->dims[0] == 3 && f->dims[1] == 2 && ((float *)f->data)[2] == 3.5f);
    CHECK(l && l->dtype == OT_INT64 && ((int64_t *)l->data)[2] == 2);
    ot_tensor_free(f);
    ot_tensor_free(l);
    CHECK(ot_csv_split(c, 0, OT_INT64, &f, &l) == OT_ERR_PARSE); /* 3.5 is not a class label */
    CHECK(ot_csv_split(c, 1, OT_FLOAT, &f, &l) == OT_OK && ((float *)l->data)[1] == -400.0f);
    ot_tensor_free(f);
    ot_tensor_free(l);
    ot_csv_free(c);
    /* other delimiters, float64, header only */
    CHECK(csv_from("x;y\n0.1;2\n", ';', OT_DOUBLE, &c) == OT_OK && ((double *)c->data->data)[0] == 0.1);
    ot_csv_free(c);
    CHECK(csv_from("x\ty\n", '\t', OT_UNDEFINED, &c) == OT_OK && c->rows == 0 && c->cols == 2);
    ot_csv_free(c);
    /* errors name the line, the column number and the column's name */
    static const struct {
        const char *text, *want1, *want2;
    } bad[] = {
        {"a,b\n1,2\n3,abc\n", "line 3, column 2 ('b')", "'abc' is not a number"},
        {"a,b\n1,\n", "line 2, column 2 ('b')", "empty"},
        {"a,b\n1,2,3\n", "line 2 has 3 fields", "header has 2"},
        {"a,b\n1\n", "line 2 has 1 field", ""},
        {"a,b\n\"1,2\n", "never closed", ""},
        {"a,b\n\"1\"x,2\n", "after a closing quote", ""},
        {"", "empty CSV", ""},
        {"a,b\n1,0x\n", "'0x'", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = NULL;
        CHECK(csv_from(bad[i].text, 0, OT_UNDEFINED, &c) == OT_ERR_PARSE && !c);
        CHECK_MSG(strstr(ot_last_error(), bad[i].want1) && strstr(ot_last_error(), bad[i].want2) &&
                      strstr(ot_last_error(), "t.csv"),
                  "case %zu: %s", i, ot_last_error());
    }
    /* random text: never a crash */
    char junk[200];
    int handled = 0;
    for (int it = 0; it < 2000; it++) {
        static const char alphabet[] = "0123456789.,e-+\"\n\r ;xa";
        size_t n = rnd() % sizeof junk;
        for (size_t k = 0; k < n; k++) junk[k] = alphabet[rnd() % (sizeof alphabet - 1)];
        c = NULL;
        ot_status s = ot_csv_read_buffer(junk, n, "junk", NULL, &c);
        handled += (s == OT_OK) == (c != NULL);
        if (c) handled -= c->data->dims[0] != c->rows || c->data->dims[1] != c->cols;
        ot_csv_free(c);
    }
    CHECK(handled == 2000);
    unlink(tmp_path("t.csv"));
}

int main(void) {
    if (!scratch_begin("ot_data")) return 1;
    test_npy_write_exact();
    unlink(tmp_path("a.npy"));
    test_npy_roundtrip();
    test_npy_variants();
    test_npy_truncated_and_fuzzed();
    test_npz();
    test_idx();
    test_fashion_mnist();
    test_csv();
    if (rmdir(tmpdir) != 0) fprintf(stderr, "note: %s not empty\n", tmpdir);
    return check_done();
}
