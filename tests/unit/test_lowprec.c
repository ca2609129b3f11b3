/* Low-precision element types (src/core/lowprec.h): every code of every
 * float8/float4 type decoded against a formula written from the format
 * definitions; encoding against a brute-force nearest-value search (ties to
 * the even code, overflow by the saturate rule) on all midpoints and their
 * neighbours; E8M0 rounding modes; 4/2-bit integer wrap; packing; TensorProto
 * round trips (raw_data and int32_data); Cast through the op table. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "op_harness.h"
#include "src/core/lowprec.h"
#include "src/onnx/pb.h"

typedef struct fmt {
    ot_dtype t;
    int ebits, mbits, bias, bits;
    const char *nan_rule; /* "fn": S.1111.111, "fnuz": 0x80, "ieee": exponent all ones, "none" */
} fmt;

static const fmt fmts[] = {
    {(ot_dtype)OT_FLOAT8E4M3FN, 4, 3, 7, 8, "fn"},   {(ot_dtype)OT_FLOAT8E4M3FNUZ, 4, 3, 8, 8, "fnuz"},
    {(ot_dtype)OT_FLOAT8E5M2, 5, 2, 15, 8, "ieee"}, {(ot_dtype)OT_FLOAT8E5M2FNUZ, 5, 2, 16, 8, "fnuz"},
    {(ot_dtype)OT_FLOAT4E2M1, 2, 1, 1, 4, "none"},
};

/* The value of `code` straight from the definition: (-1)^s 2^(E-bias) 1.m, or
   2^(1-bias) 0.m for E == 0. */
static double ref_decode(const fmt *f, unsigned code) {
    unsigned s = code >> (f->bits - 1), E = (code >> f->mbits) & ((1u << f->ebits) - 1), m = code & ((1u << f->mbits) - 1);
    if (!strcmp(f->nan_rule, "fn") && (code & 0x7f) == 0x7f) return NAN;
    if (!strcmp(f->nan_rule, "fnuz") && code == 0x80) return NAN;
    if (!strcmp(f->nan_rule, "ieee") && E == (1u << f->ebits) - 1) return m ? NAN : s ? -INFINITY : INFINITY;
    double frac = (double)m / (double)(1u << f->mbits);
    double v = E ? pow(2.0, (double)E - f->bias) * (1.0 + frac) : pow(2.0, 1.0 - f->bias) * frac;
    return s ? -v : v;
}

/* Brute force: the finite code nearest to x (ties: even mantissa), with a
   virtual "one step above max" standing for overflow. */
static unsigned ref_encode(const fmt *f, double x, bool saturate, bool *overflowed) {
    const unsigned n = 1u << f->bits, sbit = n >> 1;
    *overflowed = false;
    double maxv = 0;
    unsigned maxc = 0;
    for (unsigned c = 0; c < sbit; c++) {
        double v = ref_decode(f, c);
        if (isfinite(v) && v > maxv) maxv = v, maxc = c;
    }
    const bool neg = signbit(x) != 0;
    double a = fabs(x);
    double ulp_top = pow(2.0, floor(log2(maxv)) - f->mbits);
    unsigned best = 0;
    double bd = INFINITY;
    bool over = a >= maxv + ulp_top; /* includes inf */
    if (!over) {
        for (unsigned c = 0; c <= maxc; c++) {
            double v = ref_decode(f, c);
            if (!isfinite(v)) continue;
            double d = fabs(v - a);
            if (d < bd || (d == bd && !(c & 1))) bd = d, best = c;
        }
        double dv = fabs(maxv + ulp_top - a); /* the virtual code after max has the other parity */
        if (dv < bd || (dv == bd && (maxc & 1))) over = true;
    }
    if (over) {
        *overflowed = true;
        if (saturate || !strcmp(f->nan_rule, "none")) return (neg ? sbit : 0) | maxc;
        if (!strcmp(f->nan_rule, "ieee")) return (neg ? sbit : 0) | (((1u << f->ebits) - 1) << f->mbits);
        if (!strcmp(f->nan_rule, "fnuz")) return 0x80;
        return (neg ? 0x80 : 0) | 0x7f;
    }
    if (best == 0 && !strcmp(f->nan_rule, "fnuz")) return 0; /* no negative zero */
    return (neg ? sbit : 0) | best;
}

static void test_decode_exhaustive(void) {
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        const fmt *f = &fmts[k];
        int bad = 0;
        for (unsigned c = 0; c < (1u << f->bits); c++) {
            double got = ot_lowprec_decode(f->t, (uint8_t)c), want = ref_decode(f, c);
            bool same = (isnan(got) && isnan(want)) || (got == want && signbit(got) == signbit(want));
            if (!same && bad++ < 3) CHECK_MSG(0, "%s code 0x%02x: %g, want %g", ot_dtype_name(f->t), c, got, want);
            /* every non-NaN code round-trips, exactly */
            if (!isnan(want) && ot_lowprec_encode(f->t, want, false, OT_ROUND_UP) != c && bad++ < 3)
                CHECK_MSG(0, "%s code 0x%02x does not round-trip", ot_dtype_name(f->t), c);
        }
        CHECK_MSG(bad == 0, "%s", ot_dtype_name(f->t));
    }
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT8E4M3FN, 0x7e) == 448.0);
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT8E4M3FNUZ, 0x7f) == 240.0);
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT8E5M2, 0x7b) == 57344.0);
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT8E5M2FNUZ, 0x7f) == 57344.0);
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT4E2M1, 0x7) == 6.0 && ot_lowprec_decode((ot_dtype)OT_FLOAT4E2M1, 0x1) == 0.5);
    CHECK(ot_lowprec_decode((ot_dtype)OT_FLOAT8E4M3FN, 0x01) == ldexp(1, -9)); /* smallest subnormal */
}

static void check_encode(const fmt *f, double x, int *bad) {
    for (int sat = 0; sat < 2; sat++) {
        bool over;
        unsigned want = ref_encode(f, x, sat, &over);
        unsigned got = ot_lowprec_encode(f->t, x, sat, OT_ROUND_UP);
        if (got != want && (*bad)++ < 4)
            CHECK_MSG(0, "%s(%.17g, saturate %d) = 0x%02x, want 0x%02x", ot_dtype_name(f->t), x, sat, got, want);
    }
}

static void test_encode_rounding(void) {
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        const fmt *f = &fmts[k];
        const unsigned sbit = 1u << (f->bits - 1);
        double vals[256];
        int nv = 0, bad = 0;
        for (unsigned c = 0; c < sbit; c++) {
            double v = ref_decode(f, c);
            if (isfinite(v)) vals[nv++] = v;
        }
        /* values are increasing with the code for non-negative codes */
        for (int i = 0; i < nv; i++) {
            double lo = vals[i], hi = i + 1 < nv ? vals[i + 1] : vals[i] * 2; /* beyond max: overflow region */
            double mid = (lo + hi) / 2, probes[] = {lo, mid, nextafter(mid, 0), nextafter(mid, INFINITY),
                                                    lo + (hi - lo) / 4, hi - (hi - lo) / 8};
            for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
                check_encode(f, probes[p], &bad);
                check_encode(f, -probes[p], &bad);
            }
        }
        const double specials[] = {INFINITY, -INFINITY, 1e30, -1e30, 1e-30, -1e-30, 0.0, -0.0};
        for (size_t p = 0; p < sizeof specials / sizeof specials[0]; p++) check_encode(f, specials[p], &bad);
        for (int r = 0; r < 2000; r++) check_encode(f, rand_unit() * vals[nv - 1] * 1.2, &bad);
        /* NaN stays NaN (float4 has none: ml_dtypes gives -0) */
        uint8_t nc = ot_lowprec_encode(f->t, NAN, true, OT_ROUND_UP);
        if (strcmp(f->nan_rule, "none")) CHECK_MSG(isnan(ot_lowprec_decode(f->t, nc)), "%s NaN", ot_dtype_name(f->t));
        else CHECK(nc == 0x8);
        CHECK_MSG(bad == 0, "%s", ot_dtype_name(f->t));
    }
    /* the spec's tables at the boundaries */
    const ot_dtype e4 = (ot_dtype)OT_FLOAT8E4M3FN, e5 = (ot_dtype)OT_FLOAT8E5M2, e4z = (ot_dtype)OT_FLOAT8E4M3FNUZ;
    CHECK(ot_lowprec_encode(e4, 464.0, false, 0) == 0x7e);        /* tie to the even 448 */
    CHECK(ot_lowprec_encode(e4, 465.0, false, 0) == 0x7f);        /* NaN */
    CHECK(ot_lowprec_encode(e4, 465.0, true, 0) == 0x7e);         /* 448 */
    CHECK(ot_lowprec_encode(e4, -INFINITY, false, 0) == 0xff);    /* -NaN */
    CHECK(ot_lowprec_encode(e4, INFINITY, true, 0) == 0x7e);
    CHECK(ot_lowprec_encode(e5, 61440.0, false, 0) == 0x7c);      /* tie past max: odd max, so inf */
    CHECK(ot_lowprec_encode(e5, 61440.0, true, 0) == 0x7b);
    CHECK(ot_lowprec_encode(e5, -INFINITY, false, 0) == 0xfc);
    CHECK(ot_lowprec_encode(e4z, -0.0, false, 0) == 0x00);
    CHECK(ot_lowprec_encode(e4z, 1e9, false, 0) == 0x80);
}

static void test_e8m0(void) {
    const ot_dtype t = (ot_dtype)OT_FLOAT8E8M0;
    for (int c = 0; c < 255; c++) {
        CHECK_MSG(ot_lowprec_decode(t, (uint8_t)c) == ldexp(1.0, c - 127), "code %d", c);
        CHECK(ot_lowprec_encode(t, ldexp(1.0, c - 127), true, OT_ROUND_NEAREST) == (c ? c : 0));
    }
    CHECK(isnan(ot_lowprec_decode(t, 0xff)));
    CHECK(ot_lowprec_encode(t, 1.0, true, OT_ROUND_UP) == 127);
    CHECK(ot_lowprec_encode(t, 1.25, true, OT_ROUND_UP) == 128);
    CHECK(ot_lowprec_encode(t, 1.75, true, OT_ROUND_DOWN) == 127);
    CHECK(ot_lowprec_encode(t, 1.5, true, OT_ROUND_NEAREST) == 128);  /* the reference rounds this tie up */
    CHECK(ot_lowprec_encode(t, 1.25, true, OT_ROUND_NEAREST) == 127);
    CHECK(ot_lowprec_encode(t, 0x1.8p127, true, OT_ROUND_UP) == 254); /* saturates at max */
    CHECK(ot_lowprec_encode(t, 0x1.8p127, false, OT_ROUND_UP) == 255);
    CHECK(ot_lowprec_encode(t, NAN, true, OT_ROUND_UP) == 255);
    CHECK(ot_lowprec_encode(t, INFINITY, true, OT_ROUND_UP) == 255);
}

static void test_ints_and_packing(void) {
    const ot_dtype ints[] = {(ot_dtype)OT_INT4, (ot_dtype)OT_UINT4, (ot_dtype)OT_INT2, (ot_dtype)OT_UINT2};
    for (int k = 0; k < 4; k++) {
        ot_dtype t = ints[k];
        int64_t lo, hi;
        ot_lowprec_int_range(t, &lo, &hi);
        const int bits = ot_dtype_bits(t);
        CHECK(hi - lo + 1 == (1 << bits));
        CHECK(ot_dtype_size(t) == 1);
        /* every bit pattern decodes to its two's complement (or unsigned) value */
        for (unsigned b = 0; b < (1u << bits); b++) {
            int64_t v = (int64_t)b - ((lo < 0 && b >= (1u << (bits - 1))) ? (1 << bits) : 0);
            uint8_t byte = ot_lowprec_unpack_bits(t, b | 0xf0u << bits);
            CHECK_MSG(ot_load_i64(t, &byte, 0) == v, "%s bits %u", ot_dtype_name(t), b);
            CHECK(ot_lowprec_decode(t, byte) == (double)v);
        }
        /* stores wrap to the low bits, like any integer narrowing */
        uint8_t byte;
        ot_store_i64(t, &byte, 0, hi + 1);
        CHECK(ot_load_i64(t, &byte, 0) == lo);
        ot_store_f64(t, &byte, 0, (double)lo - 1.0);
        CHECK(ot_load_i64(t, &byte, 0) == hi);
        /* pack / unpack of an odd count: the last byte's unused bits are 0 */
        uint8_t src[13], packed[13], back[13];
        for (int i = 0; i < 13; i++) ot_store_i64(t, src, i, lo + (i * 7) % (hi - lo + 1));
        ot_lowprec_pack(t, src, 13, packed);
        ot_lowprec_unpack(t, packed, 13, back);
        CHECK(!memcmp(src, back, 13));
        int nb = (13 * bits + 7) / 8;
        CHECK((packed[nb - 1] >> ((13 * bits) % 8)) == 0);
    }
    /* the spec's layout: first element in the low bits */
    uint8_t v2[2] = {0x1, 0x2}, p;
    ot_lowprec_pack((ot_dtype)OT_UINT4, v2, 2, &p);
    CHECK(p == 0x21);
    uint8_t v4[4] = {1, 2, 3, 0};
    ot_lowprec_pack((ot_dtype)OT_UINT2, v4, 4, &p);
    CHECK(p == (1 | 2 << 2 | 3 << 4));
}

/* TensorProto: raw_data (packed) and int32_data (one packed byte each for
   4/2-bit types, one code each for float8), then saved and read back. */
static void test_proto(void) {
    const ot_tensor_ctx ctx = {.what = "test"};
    int64_t dims[1] = {5};
    /* int4 -1, 2, -8, 7, 0 packed: 0x2f, 0x78, 0x00 */
    uint8_t raw[3] = {0x2f, 0x78, 0x00};
    Onnx__TensorProto tp;
    onnx__tensor_proto__init(&tp);
    tp.has_data_type = 1;
    tp.data_type = OT_INT4;
    tp.n_dims = 1;
    tp.dims = dims;
    tp.has_raw_data = 1;
    tp.raw_data.len = 3;
    tp.raw_data.data = raw;
    ot_tensor *t = NULL;
    CHECK(ot_tensor_from_proto(&tp, &ctx, "x", &t) == OT_OK);
    const int64_t want[5] = {-1, 2, -8, 7, 0};
    for (int i = 0; t && i < 5; i++) CHECK(ot_load_i64(t->dtype, t->data, i) == want[i]);
    tp.raw_data.len = 2; /* wrong size: rejected */
    ot_tensor *bad = NULL;
    CHECK(ot_tensor_from_proto(&tp, &ctx, "x", &bad) == OT_ERR_PARSE);
    ot_tensor_free(bad);
    /* int32_data holds the same packed bytes */
    int32_t i32[3] = {0x2f, 0x78, 0x00};
    tp.has_raw_data = 0;
    tp.n_int32_data = 3;
    tp.int32_data = i32;
    ot_tensor *t2 = NULL;
    CHECK(ot_tensor_from_proto(&tp, &ctx, "x", &t2) == OT_OK);
    CHECK(t && t2 && !memcmp(t->data, t2->data, 5));
    /* save: packed raw_data again */
    Onnx__TensorProto out;
    void *scratch = NULL;
    CHECK(t && ot_tensor_to_proto(t, "x", &out, &scratch) == OT_OK);
    CHECK(out.raw_data.len == 3 && !memcmp(out.raw_data.data, raw, 3));
    ot_free(scratch);
    ot_tensor_free(t2);
    /* float8 in int32_data: one code each */
    int32_t codes[5] = {0x38, 0xb8, 0x7e, 0x7f, 0x01};
    tp.data_type = OT_FLOAT8E4M3FN;
    tp.int32_data = codes;
    tp.n_int32_data = 5;
    ot_tensor *f8 = NULL;
    CHECK(ot_tensor_from_proto(&tp, &ctx, "x", &f8) == OT_OK);
    if (f8) {
        CHECK(ot_load_f64(f8->dtype, f8->data, 0) == 1.0 && ot_load_f64(f8->dtype, f8->data, 1) == -1.0);
        CHECK(ot_load_f64(f8->dtype, f8->data, 2) == 448.0 && isnan(ot_load_f64(f8->dtype, f8->data, 3)));
        CHECK(!strcmp(ot_dtype_name(f8->dtype), "float8e4m3fn"));
    }
    ot_tensor_free(f8);
    /* external data: the file holds the packed bytes */
    char dir[] = "/tmp/ot_lowprec_dir_XXXXXX";
    if (mkdtemp(dir)) {
        char file[128];
        snprintf(file, sizeof file, "%s/w.bin", dir);
        FILE *fp = fopen(file, "wb");
        if (fp) {
            fwrite("\xff\x2f\x78\x00", 1, 4, fp); /* one byte of padding, then the tensor at offset 1 */
            fclose(fp);
        }
        Onnx__StringStringEntryProto kv[3], *kvp[3] = {&kv[0], &kv[1], &kv[2]};
        const char *keys[3] = {"location", "offset", "length"}, *vals[3] = {"w.bin", "1", "3"};
        for (int i = 0; i < 3; i++) {
            onnx__string_string_entry_proto__init(&kv[i]);
            kv[i].key = (char *)keys[i];
            kv[i].value = (char *)vals[i];
        }
        Onnx__TensorProto ext;
        onnx__tensor_proto__init(&ext);
        ext.has_data_type = 1;
        ext.data_type = OT_INT4;
        ext.n_dims = 1;
        ext.dims = dims;
        ext.has_data_location = 1;
        ext.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        ext.n_external_data = 3;
        ext.external_data = kvp;
        const ot_tensor_ctx ectx = {.what = "test", .base_dir = dir};
        ot_tensor *te = NULL;
        CHECK_MSG(ot_tensor_from_proto(&ext, &ectx, "x", &te) == OT_OK, "%s", ot_last_error());
        CHECK(te && t && !memcmp(te->data, t->data, 5));
        ot_tensor_free(te);
        vals[2] = "5"; /* the unpacked size is not the stored one */
        kv[2].value = (char *)vals[2];
        te = NULL;
        CHECK(ot_tensor_from_proto(&ext, &ectx, "x", &te) == OT_ERR_PARSE);
        ot_tensor_free(te);
        unlink(file);
        rmdir(dir);
    }
    /* a file round trip through the public API, uint2 with 7 elements */
    ot_tensor *u2;
    const int64_t d7[1] = {7};
    CHECK(ot_tensor_create((ot_dtype)OT_UINT2, 1, d7, &u2) == OT_OK);
    for (int i = 0; i < 7; i++) ((uint8_t *)ot_tensor_data(u2))[i] = (uint8_t)(i % 4);
    char path[] = "/tmp/ot_lowprec_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK(ot_tensor_save_pb(u2, "u2", path) == OT_OK);
    ot_tensor *back = NULL;
    CHECK(ot_tensor_load(path, &back) == OT_OK);
    CHECK(back && ot_tensor_dtype(back) == (ot_dtype)OT_UINT2 && ot_tensor_numel(back) == 7 &&
          !memcmp(ot_tensor_data(back), ot_tensor_data(u2), 7));
    unlink(path);
    ot_tensor_free(back);
    ot_tensor_free(u2);
    ot_tensor_free(t);
}

/* Cast through its op: saturate and round_mode reach the kernel; int4 wraps. */
static void test_cast_op(void) {
    int64_t d[1] = {6};
    const float xs[6] = {1.0f, 500.0f, -1e9f, INFINITY, 0.3f, -17.5f};
    ot_tensor *x = tensor(OT_FLOAT, 1, d, xs);
    op_run r;
    attr_spec a1[] = {INT("to", OT_FLOAT8E4M3FN), INT("saturate", 0)};
    CHECK(run_op(&r, "Cast", 19, 1, &x, 1, a1, 2) == OT_OK);
    const uint8_t *y = r.out[0]->data;
    CHECK(y[0] == 0x38 && y[1] == 0x7f && y[2] == 0xff && y[3] == 0x7f);
    run_free(&r);
    attr_spec a2[] = {INT("to", OT_FLOAT8E4M3FN)};
    CHECK(run_op(&r, "Cast", 19, 1, &x, 1, a2, 1) == OT_OK);
    y = r.out[0]->data;
    CHECK(y[1] == 0x7e && y[2] == 0xfe && y[3] == 0x7e);
    /* and back to float16 through the table */
    ot_tensor *f8 = r.out[0];
    op_run r2;
    attr_spec a3[] = {INT("to", OT_FLOAT16)};
    CHECK(run_op(&r2, "Cast", 19, 1, &f8, 1, a3, 1) == OT_OK);
    CHECK(at(r2.out[0], 0) == 1.0 && at(r2.out[0], 1) == 448.0 && at(r2.out[0], 2) == -448.0);
    run_free(&r2);
    run_free(&r);
    attr_spec a4[] = {INT("to", OT_INT4)};
    CHECK(run_op(&r, "Cast", 21, 1, &x, 1, a4, 1) == OT_OK);
    CHECK(at(r.out[0], 0) == 1 && at(r.out[0], 4) == 0 && at(r.out[0], 5) == -1); /* -17 wraps to -1 */
    run_free(&r);
    attr_spec a5[] = {INT("to", OT_FLOAT8E8M0), STR("round_mode", "down")};
    const float p[6] = {1.0f, 3.0f, 0.75f, 1e-3f, 5.0f, 7.9f};
    ot_tensor *xp = tensor(OT_FLOAT, 1, d, p);
    CHECK(run_op(&r, "Cast", 24, 1, &xp, 1, a5, 2) == OT_OK);
    CHECK(at(r.out[0], 1) == 2.0 && at(r.out[0], 2) == 0.5 && at(r.out[0], 5) == 4.0);
    run_free(&r);
    attr_spec a6[] = {INT("to", OT_FLOAT8E8M0), STR("round_mode", "up")};
    CHECK(run_op(&r, "Cast", 23, 1, &xp, 1, a6, 2) == OT_ERR_PARSE); /* round_mode is 24+ */
    run_free(&r);
    ot_tensor_free(xp);
    ot_tensor_free(x);
}

int main(void) {
    test_decode_exhaustive();
    test_encode_rounding();
    test_e8m0();
    test_ints_and_packing();
    test_proto();
    test_cast_op();
    return check_done();
}
