/* Cast between every numeric dtype.  Integer <-> integer (and bool) goes
 * through int64 bits so wide values survive and narrowing wraps as the spec
 * says; anything involving a float goes through float64, with a
 * round-to-odd step when narrowing float64 to float16/bfloat16 so the result
 * is rounded once, like numpy, not twice.  Common float pairs have direct
 * loops.  Low-precision types (src/core/lowprec.h): float8/float4 go through
 * float64 (decoded by a 256-entry table, encoded with round-to-nearest-even
 * and the saturate rule); int4/int2 and their unsigned forms behave as
 * integers (floats truncate, then every integer wraps to the low bits), as
 * ml_dtypes, which the ONNX reference uses, does. */
#include <string.h>

#include "elementwise.h"
#include "elementwise_util.h"
#include "../../src/core/lowprec.h"

enum { CAST_BUF = 256 };

bool ot_cpu_cast_supports(ot_dtype from, ot_dtype to) {
    return (ot_dtype_is_numeric(from) || ot_dtype_is_lowprec(from)) &&
           (ot_dtype_is_numeric(to) || ot_dtype_is_lowprec(to));
}

static bool cast_floatish(ot_dtype t) { return ot_dtype_is_float(t) || ot_dtype_is_lowprec_float(t); }

typedef struct cast_job {
    const ot_tensor *x;
    ot_tensor *y;
    bool saturate;
    ot_round_mode rm;
} cast_job;

/* float64 -> float32 rounding toward zero with the lost bits ORed into the
   last place: a later rounding to <= 22 mantissa bits is then correct. */
static float cast_d2f_odd(double d) {
    float f = (float)d;
    if ((double)f == d || d != d) return f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if (fabs((double)f) > fabs(d)) bits--; /* rounded away from zero: step back */
    bits |= 1;
    memcpy(&f, &bits, 4);
    return f;
}

static void cast_load_f64(ot_dtype t, const void *src, int64_t off, int64_t n, double *buf, const double *tab) {
    switch ((int)t) {
#define CL_F(E, NM, TS, CT, LD, ST) \
    case E: for (int64_t i = 0; i < n; i++) buf[i] = (double)LD(((const TS *)src)[off + i]); return;
#define CL_I(E, NM, T, U) \
    case E: for (int64_t i = 0; i < n; i++) buf[i] = (double)((const T *)src)[off + i]; return;
        OT_EW_FLOAT_TYPES(CL_F)
        OT_EW_SINT_TYPES(CL_I)
        OT_EW_UINT_TYPES(CL_I)
    case OT_BOOL: for (int64_t i = 0; i < n; i++) buf[i] = ((const uint8_t *)src)[off + i] != 0; return;
    default: /* low-precision: tab holds the value of each code */
        for (int64_t i = 0; i < n; i++) buf[i] = tab[((const uint8_t *)src)[off + i]];
        return;
    }
}

static void cast_store_f64(ot_dtype t, void *dst, int64_t off, int64_t n, const double *buf, const cast_job *j) {
    switch ((int)t) {
    case OT_FLOAT: for (int64_t i = 0; i < n; i++) ((float *)dst)[off + i] = (float)buf[i]; return;
    case OT_DOUBLE: for (int64_t i = 0; i < n; i++) ((double *)dst)[off + i] = buf[i]; return;
    case OT_FLOAT16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[off + i] = ot_f32_to_f16(cast_d2f_odd(buf[i]));
        return;
    case OT_BFLOAT16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[off + i] = ot_f32_to_bf16(cast_d2f_odd(buf[i]));
        return;
    case OT_BOOL: for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[off + i] = buf[i] != 0; return;
    case OT_UINT64: for (int64_t i = 0; i < n; i++) ((uint64_t *)dst)[off + i] = ot_ew_d2u64(buf[i]); return;
#define CS_I(E, NM, T, U) \
    case E: for (int64_t i = 0; i < n; i++) ((T *)dst)[off + i] = (T)ot_ew_d2i64(buf[i]); return;
        OT_EW_SINT_TYPES(CS_I)
        CS_I(OT_UINT8, u8, uint8_t, uint32_t)
        CS_I(OT_UINT16, u16, uint16_t, uint32_t)
        CS_I(OT_UINT32, u32, uint32_t, uint32_t)
    default:
        if (ot_dtype_is_lowprec_int(t)) {
            for (int64_t i = 0; i < n; i++)
                ((uint8_t *)dst)[off + i] = ot_lowprec_unpack_bits(t, (unsigned)(uint64_t)ot_ew_d2i64(buf[i]));
        } else {
            for (int64_t i = 0; i < n; i++)
                ((uint8_t *)dst)[off + i] = ot_lowprec_encode(t, buf[i], j->saturate, j->rm);
        }
        return;
    }
}

static void cast_load_i64(ot_dtype t, const void *src, int64_t off, int64_t n, int64_t *buf) {
    switch ((int)t) {
#define CLI(E, NM, T, U) \
    case E: for (int64_t i = 0; i < n; i++) buf[i] = (int64_t)((const T *)src)[off + i]; return;
        OT_EW_SINT_TYPES(CLI)
        OT_EW_UINT_TYPES(CLI)
    case OT_BOOL: for (int64_t i = 0; i < n; i++) buf[i] = ((const uint8_t *)src)[off + i] != 0; return;
    case OT_INT4: case OT_INT2: /* stored sign-extended */
        for (int64_t i = 0; i < n; i++) buf[i] = ((const int8_t *)src)[off + i];
        return;
    case OT_UINT4: case OT_UINT2:
        for (int64_t i = 0; i < n; i++) buf[i] = ((const uint8_t *)src)[off + i];
        return;
    default: return;
    }
}

static void cast_store_i64(ot_dtype t, void *dst, int64_t off, int64_t n, const int64_t *buf) {
    switch ((int)t) {
#define CSI(E, NM, T, U) \
    case E: for (int64_t i = 0; i < n; i++) ((T *)dst)[off + i] = (T)buf[i]; return;
        OT_EW_SINT_TYPES(CSI)
        OT_EW_UINT_TYPES(CSI)
    case OT_BOOL: for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[off + i] = buf[i] != 0; return;
    case OT_INT4: case OT_INT2: case OT_UINT4: case OT_UINT2: /* wrap to the low bits */
        for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[off + i] = ot_lowprec_unpack_bits(t, (unsigned)(uint64_t)buf[i]);
        return;
    default: return;
    }
}

/* Direct loops for the pairs mixed-precision training uses every step. */
static bool cast_direct(ot_dtype from, ot_dtype to, const void *src, void *dst, int64_t b, int64_t e) {
    if (from == OT_FLOAT && to == OT_FLOAT16) {
        for (int64_t i = b; i < e; i++) ((uint16_t *)dst)[i] = ot_f32_to_f16(((const float *)src)[i]);
    } else if (from == OT_FLOAT16 && to == OT_FLOAT) {
        for (int64_t i = b; i < e; i++) ((float *)dst)[i] = ot_f16_to_f32(((const uint16_t *)src)[i]);
    } else if (from == OT_FLOAT && to == OT_BFLOAT16) {
        for (int64_t i = b; i < e; i++) ((uint16_t *)dst)[i] = ot_f32_to_bf16(((const float *)src)[i]);
    } else if (from == OT_BFLOAT16 && to == OT_FLOAT) {
        for (int64_t i = b; i < e; i++) ((float *)dst)[i] = ot_bf16_to_f32(((const uint16_t *)src)[i]);
    } else if (from == OT_FLOAT && to == OT_DOUBLE) {
        for (int64_t i = b; i < e; i++) ((double *)dst)[i] = ((const float *)src)[i];
    } else if (from == OT_DOUBLE && to == OT_FLOAT) {
        for (int64_t i = b; i < e; i++) ((float *)dst)[i] = (float)((const double *)src)[i];
    } else {
        return false;
    }
    return true;
}

static void cast_range(int64_t b, int64_t e, const void *ctx) {
    const cast_job *j = ctx;
    const ot_dtype from = j->x->dtype, to = j->y->dtype;
    if (cast_direct(from, to, j->x->data, j->y->data, b, e)) return;
    const bool via_int = !cast_floatish(from) && !cast_floatish(to);
    double tab[256];
    if (!via_int && ot_dtype_is_lowprec(from))
        for (int k = 0; k < 256; k++) tab[k] = ot_lowprec_decode(from, (uint8_t)k);
    union {
        double d[CAST_BUF];
        int64_t i[CAST_BUF];
    } buf;
    for (int64_t s = b; s < e; s += CAST_BUF) {
        const int64_t m = e - s < CAST_BUF ? e - s : CAST_BUF;
        if (via_int) {
            cast_load_i64(from, j->x->data, s, m, buf.i);
            cast_store_i64(to, j->y->data, s, m, buf.i);
        } else {
            cast_load_f64(from, j->x->data, s, m, buf.d, tab);
            cast_store_f64(to, j->y->data, s, m, buf.d, j);
        }
    }
}

ot_status ot_cpu_cast(const ot_tensor *x, ot_tensor *y) { return ot_cpu_cast_mode(x, y, true, OT_ROUND_UP); }

ot_status ot_cpu_cast_mode(const ot_tensor *x, ot_tensor *y, bool saturate, int round_mode) {
    if (!ot_cpu_cast_supports(x->dtype, y->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "Cast: no kernel from %s to %s", ot_dtype_name(x->dtype),
                        ot_dtype_name(y->dtype));
    if (x->dtype == y->dtype) {
        ot_cpu_copy(x, y);
        return OT_OK;
    }
    cast_job j = {x, y, saturate, (ot_round_mode)round_mode};
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_CHEAP, cast_range, &j);
    return OT_OK;
}
