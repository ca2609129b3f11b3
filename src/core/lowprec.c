/* Conversions of the low-precision element types (see lowprec.h).  Every
 * minifloat is described by its exponent/mantissa widths and bias; encoding
 * works on doubles with exact power-of-two scaling, so a float64 source is
 * rounded once. */
#include "lowprec.h"

#include <math.h>
#include <string.h>

bool ot_dtype_is_lowprec(ot_dtype t) { return (int)t >= OT_FLOAT8E4M3FN && (int)t <= OT_INT2; }

bool ot_dtype_is_lowprec_float(ot_dtype t) {
    switch ((int)t) {
    case OT_FLOAT8E4M3FN: case OT_FLOAT8E4M3FNUZ: case OT_FLOAT8E5M2: case OT_FLOAT8E5M2FNUZ:
    case OT_FLOAT4E2M1: case OT_FLOAT8E8M0: return true;
    default: return false;
    }
}

bool ot_dtype_is_lowprec_int(ot_dtype t) {
    switch ((int)t) {
    case OT_UINT4: case OT_INT4: case OT_UINT2: case OT_INT2: return true;
    default: return false;
    }
}

int ot_dtype_bits(ot_dtype t) {
    switch ((int)t) {
    case OT_UINT4: case OT_INT4: case OT_FLOAT4E2M1: return 4;
    case OT_UINT2: case OT_INT2: return 2;
    default: return (int)ot_dtype_size(t) * 8;
    }
}

void ot_lowprec_int_range(ot_dtype t, int64_t *lo, int64_t *hi) {
    switch ((int)t) {
    case OT_INT2: *lo = -2; *hi = 1; return;
    case OT_UINT2: *lo = 0; *hi = 3; return;
    case OT_INT4: *lo = -8; *hi = 7; return;
    case OT_UINT4: *lo = 0; *hi = 15; return;
    case OT_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case OT_UINT8: *lo = 0; *hi = UINT8_MAX; return;
    case OT_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return;
    case OT_UINT16: *lo = 0; *hi = UINT16_MAX; return;
    case OT_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return;
    case OT_UINT32: *lo = 0; *hi = UINT32_MAX; return;
    default: *lo = INT64_MIN; *hi = INT64_MAX; return;
    }
}

/* A sign-magnitude minifloat.  fnuz: no negative zero, the one NaN is the
   "negative zero" code.  ieee: the top exponent holds inf (mantissa 0) and
   NaN.  Otherwise (E4M3FN) only all-ones exponent+mantissa is NaN. */
typedef struct minifloat {
    int ebits, mbits, bias;
    bool fnuz, ieee, has_nan;
    double max;
} minifloat;

static const minifloat *mf_of(ot_dtype t) {
    static const minifloat e4m3fn = {4, 3, 7, false, false, true, 448.0};
    static const minifloat e4m3fnuz = {4, 3, 8, true, false, true, 240.0};
    static const minifloat e5m2 = {5, 2, 15, false, true, true, 57344.0};
    static const minifloat e5m2fnuz = {5, 2, 16, true, false, true, 57344.0};
    static const minifloat e2m1 = {2, 1, 1, false, false, false, 6.0};
    switch ((int)t) {
    case OT_FLOAT8E4M3FN: return &e4m3fn;
    case OT_FLOAT8E4M3FNUZ: return &e4m3fnuz;
    case OT_FLOAT8E5M2: return &e5m2;
    case OT_FLOAT8E5M2FNUZ: return &e5m2fnuz;
    case OT_FLOAT4E2M1: return &e2m1;
    default: return NULL;
    }
}

static double mf_decode(const minifloat *f, unsigned code) {
    const unsigned sbit = 1u << (f->ebits + f->mbits);
    const unsigned mmask = (1u << f->mbits) - 1, emax = (1u << f->ebits) - 1;
    const unsigned e = (code >> f->mbits) & emax, m = code & mmask;
    const bool neg = (code & sbit) != 0;
    if (f->fnuz && code == sbit) return NAN;
    if (f->ieee && e == emax) return m ? NAN : (neg ? -INFINITY : INFINITY);
    if (!f->fnuz && !f->ieee && f->has_nan && e == emax && m == mmask) return NAN;
    double v = e ? ldexp((double)(m | (mmask + 1)), (int)e - f->bias - f->mbits)
                 : ldexp((double)m, 1 - f->bias - f->mbits);
    return neg ? -v : v;
}

static unsigned mf_nan(const minifloat *f, bool neg) {
    const unsigned sbit = 1u << (f->ebits + f->mbits);
    if (f->fnuz) return sbit;
    if (f->ieee) return (neg ? sbit : 0) | (sbit - 1 - 1); /* quiet NaN: 0x7e as ml_dtypes */
    return (neg ? sbit : 0) | (sbit - 1);                  /* E4M3FN: S.1111.111 */
}

static unsigned mf_encode(const minifloat *f, double x, bool saturate) {
    const unsigned sbit = 1u << (f->ebits + f->mbits);
    const bool neg = signbit(x) != 0;
    if (isnan(x)) return f->has_nan ? mf_nan(f, neg) : sbit; /* float4: -0, as ml_dtypes */
    const unsigned maxcode = f->ieee ? ((((1u << f->ebits) - 2) << f->mbits) | ((1u << f->mbits) - 1))
                                     : (f->has_nan && !f->fnuz ? sbit - 2 : sbit - 1);
    const unsigned s = neg && !(f->fnuz) ? sbit : 0;
    const unsigned sm = neg ? sbit : 0; /* sign of a non-zero result */
    double a = fabs(x);
    unsigned code = 0;
    if (!isinf(a)) {
        const int emin = 1 - f->bias; /* exponent of the smallest normal */
        int k;
        frexp(a, &k);
        int e = k - 1; /* a in [2^e, 2^(e+1)) */
        if (e < emin) e = emin; /* subnormal range: fixed quantum */
        double r = nearbyint(ldexp(a, f->mbits - e)); /* ties to even */
        if (r >= ldexp(1.0, f->mbits + 1)) { r = ldexp(r, -1); e++; }
        double v = ldexp(r, e - f->mbits);
        if (v <= f->max) {
            if (r == 0) return s; /* +-0 (fnuz: +0 only) */
            unsigned m = (unsigned)r;
            unsigned be = m >> f->mbits ? (unsigned)(e + f->bias) : 0; /* subnormal: exponent field 0 */
            code = (be << f->mbits) | (m & ((1u << f->mbits) - 1));
            return sm | code;
        }
    }
    if (saturate || !f->has_nan) return sm | maxcode;
    if (f->ieee) return sm | ((((1u << f->ebits) - 1)) << f->mbits); /* inf */
    return mf_nan(f, neg);
}

static uint8_t e8m0_encode(double x, bool saturate, ot_round_mode rm) {
    float xf = (float)x;
    uint32_t b;
    memcpy(&b, &xf, 4);
    unsigned e = (b >> 23) & 0xff;
    if (e == 0xff) return 0xff;
    unsigned inc = 0;
    if (rm == OT_ROUND_NEAREST) {
        /* guard bit set and (round or sticky or an odd... non-zero exponent) */
        bool g = b & 0x400000, r = b & 0x200000, st = b & 0x1fffff, lsb = e > 0;
        inc = g && (r || st || lsb);
    } else if (rm == OT_ROUND_UP) {
        inc = (b & 0x7fffff) != 0;
    }
    if (saturate && e == 0xfe) inc = 0;
    return (uint8_t)(e + inc);
}

double ot_lowprec_decode(ot_dtype t, uint8_t code) {
    if ((int)t == OT_FLOAT8E8M0) return code == 0xff ? NAN : ldexp(1.0, (int)code - 127);
    const minifloat *f = mf_of(t);
    if (f) return mf_decode(f, code);
    if (ot_dtype_is_lowprec_int(t)) return (int)t == OT_INT4 || (int)t == OT_INT2 ? (double)(int8_t)code : code;
    return NAN;
}

uint8_t ot_lowprec_encode(ot_dtype t, double x, bool saturate, ot_round_mode rm) {
    if ((int)t == OT_FLOAT8E8M0) return e8m0_encode(x, saturate, rm);
    const minifloat *f = mf_of(t);
    return f ? (uint8_t)mf_encode(f, x, saturate) : 0;
}

void ot_lowprec_unpack(ot_dtype t, const uint8_t *src, int64_t n, uint8_t *dst) {
    const int bits = ot_dtype_bits(t), per = 8 / bits;
    for (int64_t i = 0; i < n; i++)
        dst[i] = ot_lowprec_unpack_bits(t, (unsigned)src[i / per] >> ((i % per) * bits));
}

void ot_lowprec_pack(ot_dtype t, const uint8_t *src, int64_t n, uint8_t *dst) {
    const int bits = ot_dtype_bits(t), per = 8 / bits;
    const unsigned mask = (1u << bits) - 1;
    memset(dst, 0, (size_t)((n + per - 1) / per));
    for (int64_t i = 0; i < n; i++) dst[i / per] |= (uint8_t)((src[i] & mask) << ((i % per) * bits));
}
