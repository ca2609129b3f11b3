/* Broadcasting binary ops: one inner loop per (op, dtype), generated from
 * one expression each.  Every loop has unit-stride, scalar-operand and
 * general-stride variants (see broadcast.h for the calling convention).
 * Integer arithmetic wraps (computed in unsigned types: signed overflow is
 * undefined in C); integer division and remainder by 0 give 0 and INT_MIN /
 * -1 wraps, instead of trapping. */
#include <tgmath.h>

#include "elementwise.h"
#include "elementwise_util.h"

#define BIN_LOOP(TI, TO, CT, LD, ST, EXPR)                                                   \
    if (s[0] == (int64_t)sizeof(TO) && sa == ez && sb == ez) {                               \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                \
            const CT x = LD(a[i]), y = LD(b[i]);                                             \
            o[i] = (TO)ST(EXPR);                                                             \
            (void)x, (void)y;                                                                \
        }                                                                                    \
    } else if (s[0] == (int64_t)sizeof(TO) && sa == ez && sb == 0) {                         \
        const CT y = LD(b[0]);                                                               \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                                    \
            const CT x = LD(a[i]);                                                           \
            o[i] = (TO)ST(EXPR);                                                             \
            (void)x, (void)y;                                                                \
        }                                                                                    \
    } else if (s[0] == (int64_t)sizeof(TO) && sa == 0 && sb == ez) {                         \
        const CT x = LD(a[0]);                                                               \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                                    \
            const CT y = LD(b[i]);                                                           \
            o[i] = (TO)ST(EXPR);                                                             \
            (void)x, (void)y;                                                                \
        }                                                                                    \
    } else {                                                                                 \
        char *po = p[0];                                                                     \
        const char *pa = p[1], *pb = p[2];                                                   \
        for (int64_t i = 0; i < n; i++, po += s[0], pa += sa, pb += sb) {                    \
            const CT x = LD(*(const TI *)pa), y = LD(*(const TI *)pb);                       \
            *(TO *)po = (TO)ST(EXPR);                                                        \
            (void)x, (void)y;                                                                \
        }                                                                                    \
    }

#define BIN_FN(NAME, TI, TO, CT, LD, ST, EXPR)                                     \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *ctx) { \
        (void)ctx;                                                                 \
        TO *o = (TO *)p[0];                                                        \
        const TI *a = (const TI *)p[1], *b = (const TI *)p[2];                     \
        const int64_t sa = s[1], sb = s[2], ez = (int64_t)sizeof(TI);              \
        BIN_LOOP(TI, TO, CT, LD, ST, EXPR)                                         \
    }

#define BIN_CMP(NM, TS, CT, LD)                                        \
    BIN_FN(bin_eq_##NM, TS, uint8_t, CT, LD, OT_EW_ID, x == y)          \
    BIN_FN(bin_lt_##NM, TS, uint8_t, CT, LD, OT_EW_ID, x < y)           \
    BIN_FN(bin_le_##NM, TS, uint8_t, CT, LD, OT_EW_ID, x <= y)          \
    BIN_FN(bin_gt_##NM, TS, uint8_t, CT, LD, OT_EW_ID, x > y)           \
    BIN_FN(bin_ge_##NM, TS, uint8_t, CT, LD, OT_EW_ID, x >= y)

/* np.minimum / np.maximum: a NaN in either operand gives NaN. */
#define BIN_FLOAT(E, NM, TS, CT, LD, ST)                                           \
    BIN_FN(bin_add_##NM, TS, TS, CT, LD, ST, x + y)                                \
    BIN_FN(bin_sub_##NM, TS, TS, CT, LD, ST, x - y)                                \
    BIN_FN(bin_mul_##NM, TS, TS, CT, LD, ST, x * y)                                \
    BIN_FN(bin_div_##NM, TS, TS, CT, LD, ST, x / y)                                \
    BIN_FN(bin_min_##NM, TS, TS, CT, LD, ST, (x != x || x < y) ? x : y)            \
    BIN_FN(bin_max_##NM, TS, TS, CT, LD, ST, (x != x || x > y) ? x : y)            \
    BIN_FN(bin_fmod_##NM, TS, TS, CT, LD, ST, fmod(x, y))                          \
    BIN_FN(bin_prelu_##NM, TS, TS, CT, LD, ST, x * (x < 0 ? y : (CT)1))           \
    BIN_CMP(NM, TS, CT, LD)
OT_EW_FLOAT_TYPES(BIN_FLOAT)

/* Python's modulo (sign of the divisor) on int64; every signed type fits. */
static inline int64_t bin_pymod(int64_t a, int64_t b) {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

#define BIN_INT_COMMON(NM, T, U)                                                   \
    BIN_FN(bin_add_##NM, T, T, T, OT_EW_ID, OT_EW_ID, (U)x + (U)y)                 \
    BIN_FN(bin_sub_##NM, T, T, T, OT_EW_ID, OT_EW_ID, (U)x - (U)y)                 \
    BIN_FN(bin_mul_##NM, T, T, T, OT_EW_ID, OT_EW_ID, (U)x * (U)y)                 \
    BIN_FN(bin_min_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x < y ? x : y)               \
    BIN_FN(bin_max_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x > y ? x : y)               \
    BIN_FN(bin_bitand_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x & y)                    \
    BIN_FN(bin_bitor_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x | y)                     \
    BIN_FN(bin_bitxor_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x ^ y)                    \
    BIN_CMP(NM, T, T, OT_EW_ID)

#define BIN_SINT(E, NM, T, U)                                                                  \
    BIN_INT_COMMON(NM, T, U)                                                                   \
    BIN_FN(bin_div_##NM, T, T, T, OT_EW_ID, OT_EW_ID, y == 0 ? 0 : y == -1 ? (T)(0u - (U)x) : x / y) \
    BIN_FN(bin_mod_##NM, T, T, T, OT_EW_ID, OT_EW_ID, bin_pymod(x, y))                        \
    BIN_FN(bin_fmod_##NM, T, T, T, OT_EW_ID, OT_EW_ID, (y == 0 || y == -1) ? 0 : x % y)       \
    BIN_FN(bin_prelu_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x < 0 ? (T)((U)x * (U)y) : x)
OT_EW_SINT_TYPES(BIN_SINT)

#define BIN_UINT(E, NM, T, U)                                                                  \
    BIN_INT_COMMON(NM, T, U)                                                                   \
    BIN_FN(bin_div_##NM, T, T, T, OT_EW_ID, OT_EW_ID, y == 0 ? 0 : x / y)                      \
    BIN_FN(bin_mod_##NM, T, T, T, OT_EW_ID, OT_EW_ID, y == 0 ? 0 : x % y)                      \
    BIN_FN(bin_prelu_##NM, T, T, T, OT_EW_ID, OT_EW_ID, x)                                     \
    BIN_FN(bin_shl_##NM, T, T, T, OT_EW_ID, OT_EW_ID, y >= 8 * sizeof(T) ? 0 : (U)x << y)      \
    BIN_FN(bin_shr_##NM, T, T, T, OT_EW_ID, OT_EW_ID, y >= 8 * sizeof(T) ? 0 : x >> y)
OT_EW_UINT_TYPES(BIN_UINT)

/* bool: any nonzero byte is true. */
BIN_FN(bin_and_b, uint8_t, uint8_t, uint8_t, OT_EW_ID, OT_EW_ID, x && y)
BIN_FN(bin_or_b, uint8_t, uint8_t, uint8_t, OT_EW_ID, OT_EW_ID, x || y)
BIN_FN(bin_xor_b, uint8_t, uint8_t, uint8_t, OT_EW_ID, OT_EW_ID, !x != !y)
BIN_FN(bin_eq_b, uint8_t, uint8_t, uint8_t, OT_EW_ID, OT_EW_ID, !x == !y)

#define BIN_ENTRY_CMP(NM) \
    [OT_BIN_EQ] = bin_eq_##NM, [OT_BIN_LT] = bin_lt_##NM, [OT_BIN_LE] = bin_le_##NM, [OT_BIN_GT] = bin_gt_##NM, \
    [OT_BIN_GE] = bin_ge_##NM
#define BIN_TABLE_FLOAT(E, NM, TS, CT, LD, ST)                                                       \
    static const ot_bcast_fn bin_tab_##NM[OT_BIN_COUNT] = {                                          \
        [OT_BIN_ADD] = bin_add_##NM, [OT_BIN_SUB] = bin_sub_##NM, [OT_BIN_MUL] = bin_mul_##NM,       \
        [OT_BIN_DIV] = bin_div_##NM, [OT_BIN_MIN] = bin_min_##NM, [OT_BIN_MAX] = bin_max_##NM,       \
        [OT_BIN_FMOD] = bin_fmod_##NM, [OT_BIN_PRELU] = bin_prelu_##NM, BIN_ENTRY_CMP(NM)};
#define BIN_ENTRY_INT(NM)                                                                            \
    [OT_BIN_ADD] = bin_add_##NM, [OT_BIN_SUB] = bin_sub_##NM, [OT_BIN_MUL] = bin_mul_##NM,           \
    [OT_BIN_DIV] = bin_div_##NM, [OT_BIN_MIN] = bin_min_##NM, [OT_BIN_MAX] = bin_max_##NM,           \
    [OT_BIN_MOD] = bin_mod_##NM, [OT_BIN_PRELU] = bin_prelu_##NM, [OT_BIN_BITAND] = bin_bitand_##NM, \
    [OT_BIN_BITOR] = bin_bitor_##NM, [OT_BIN_BITXOR] = bin_bitxor_##NM, BIN_ENTRY_CMP(NM)
#define BIN_TABLE_SINT(E, NM, T, U) \
    static const ot_bcast_fn bin_tab_##NM[OT_BIN_COUNT] = {BIN_ENTRY_INT(NM), [OT_BIN_FMOD] = bin_fmod_##NM};
/* Unsigned remainders have one sign, so Mod's fmod=0 and fmod=1 agree. */
#define BIN_TABLE_UINT(E, NM, T, U)                                                                  \
    static const ot_bcast_fn bin_tab_##NM[OT_BIN_COUNT] = {BIN_ENTRY_INT(NM), [OT_BIN_FMOD] = bin_mod_##NM, \
                                                           [OT_BIN_SHL] = bin_shl_##NM,              \
                                                           [OT_BIN_SHR] = bin_shr_##NM};
OT_EW_FLOAT_TYPES(BIN_TABLE_FLOAT)
OT_EW_SINT_TYPES(BIN_TABLE_SINT)
OT_EW_UINT_TYPES(BIN_TABLE_UINT)
static const ot_bcast_fn bin_tab_b[OT_BIN_COUNT] = {
    [OT_BIN_AND] = bin_and_b, [OT_BIN_OR] = bin_or_b, [OT_BIN_XOR] = bin_xor_b, [OT_BIN_EQ] = bin_eq_b};

ot_bcast_fn ot_cpu_binary_fn(ot_binary_op op, ot_dtype dt) {
    if ((int)op < 0 || op >= OT_BIN_COUNT) return NULL;
    switch (dt) {
#define BIN_CASE_F(E, NM, TS, CT, LD, ST) \
    case E: return bin_tab_##NM[op];
#define BIN_CASE_I(E, NM, T, U) \
    case E: return bin_tab_##NM[op];
        OT_EW_FLOAT_TYPES(BIN_CASE_F)
        OT_EW_SINT_TYPES(BIN_CASE_I)
        OT_EW_UINT_TYPES(BIN_CASE_I)
    case OT_BOOL: return bin_tab_b[op];
    default: return NULL;
    }
}

bool ot_binary_is_compare(ot_binary_op op) {
    return op == OT_BIN_EQ || op == OT_BIN_LT || op == OT_BIN_LE || op == OT_BIN_GT || op == OT_BIN_GE;
}

ot_status ot_cpu_binary(ot_binary_op op, const ot_tensor *a, const ot_tensor *b, ot_tensor *out) {
    ot_bcast_fn fn = ot_cpu_binary_fn(op, a->dtype);
    if (!fn || b->dtype != a->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "no binary kernel %d for %s and %s", (int)op, ot_dtype_name(a->dtype),
                        ot_dtype_name(b->dtype));
    const ot_tensor *in[2] = {a, b};
    int64_t grain = (op == OT_BIN_MOD || op == OT_BIN_FMOD || op == OT_BIN_DIV) ? OT_GRAIN_COSTLY : OT_GRAIN_CHEAP;
    return ot_bcast_tensors(out, 2, in, fn, NULL, grain);
}

/* ---- y *= s --------------------------------------------------------------- */
typedef struct bin_scale_job {
    ot_tensor *y;
    double s;
} bin_scale_job;

static void bin_scale_range(int64_t b, int64_t e, const void *ctx) {
    const bin_scale_job *j = ctx;
    void *d = j->y->data;
    switch (j->y->dtype) {
    case OT_FLOAT: {
        float *y = d, s = (float)j->s;
        for (int64_t i = b; i < e; i++) y[i] *= s;
        break;
    }
    case OT_DOUBLE: {
        double *y = d;
        for (int64_t i = b; i < e; i++) y[i] *= j->s;
        break;
    }
    case OT_FLOAT16: {
        uint16_t *y = d;
        for (int64_t i = b; i < e; i++) y[i] = ot_f32_to_f16(ot_f16_to_f32(y[i]) * (float)j->s);
        break;
    }
    case OT_BFLOAT16: {
        uint16_t *y = d;
        for (int64_t i = b; i < e; i++) y[i] = ot_f32_to_bf16(ot_bf16_to_f32(y[i]) * (float)j->s);
        break;
    }
    default: break;
    }
}

ot_status ot_cpu_scale(ot_tensor *y, double s) {
    if (!ot_dtype_is_float(y->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "scale: no kernel for %s", ot_dtype_name(y->dtype));
    bin_scale_job j = {y, s};
    ot_parallel_range(ot_tensor_numel(y), OT_GRAIN_CHEAP, bin_scale_range, &j);
    return OT_OK;
}
