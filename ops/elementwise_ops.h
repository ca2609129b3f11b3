/* Private to the elementwise family: its files (elementwise.c: binary,
 * variadic, Where and the family's one table `ot_ops_elementwise`;
 * elementwise_unary.c: unary maps, Clip, IsNaN/IsInf; elementwise_misc.c:
 * Cast, CastLike, Identity, Dropout; elementwise_grad.c: gradient rules;
 * elementwise_grad_ops.c: the ai.onnxtrain grad ops the rules emit) share
 * these structs and helpers. */
#ifndef OT_OPS_ELEMENTWISE_OPS_H
#define OT_OPS_ELEMENTWISE_OPS_H

#include "../kernels/cpu/elementwise.h"
#include "../kernels/cpu/elementwise_grad.h"
#include "grad.h"
#include "op.h"

/* dtype classes accepted by an op (a union over the op's opset versions:
   a dtype a newer version added is accepted at older opsets too). */
enum {
    OT_EW_DT_FLOAT = 1u << 0, /* float16, bfloat16, float, double */
    OT_EW_DT_SINT = 1u << 1,  /* int8..int64 */
    OT_EW_DT_UINT = 1u << 2,  /* uint8..uint64 */
    OT_EW_DT_BOOL = 1u << 3,
    OT_EW_DT_INT = OT_EW_DT_SINT | OT_EW_DT_UINT,
    OT_EW_DT_NUM = OT_EW_DT_FLOAT | OT_EW_DT_INT
};

typedef struct {
    ot_unary_op op;
    ot_unary_params p;
    unsigned dtypes;
} ot_ew_unary_attrs;

typedef struct {
    ot_binary_op op;
    unsigned dtypes;
} ot_ew_binary_attrs;

typedef struct {
    float lo, hi; /* opset < 11: attributes */
} ot_ew_clip_attrs;

typedef struct {
    int64_t detect_negative, detect_positive;
} ot_ew_isinf_attrs;

typedef struct {
    int to;           /* ONNX dtype number (Cast) */
    int64_t saturate; /* casts to float8 types (Cast 19+) */
    int round_mode;   /* casts to float8e8m0 (Cast 24+): ot_round_mode of src/core/lowprec.h */
} ot_ew_cast_attrs;

typedef struct {
    float ratio; /* opset < 12 */
    int has_seed;
    int64_t seed;
} ot_ew_dropout_attrs;

/* ---- grad ops (elementwise_grad_ops.c) ------------------------------------------ */
typedef struct {
    ot_unary_grad_op op;
    ot_unary_params p;
} ot_ew_ugrad_attrs;

/* A unary grad op's name and float attributes (name and default, landing in
   ot_unary_params alpha/beta/gamma as the forward's do). */
typedef struct {
    const char *name;
    ot_unary_grad_op op;
    bool uses_y; /* input 1 is the forward's output (else its input) */
    const char *a;
    float a_def;
    const char *b;
    float b_def;
    const char *g;
    float g_def;
} ot_ew_ugrad_info;
bool ot_ew_ugrad_info_of(ot_unary_grad_op op, ot_ew_ugrad_info *out);

typedef struct {
    int64_t wrt; /* PowGrad, PReluGrad: 0 the first input, 1 the second */
} ot_ew_wrt_attrs;

typedef struct {
    int64_t input; /* MinMaxGrad: whose gradient */
} ot_ew_minmax_grad_attrs;

typedef struct {
    float lo, hi; /* ClipGrad: bounds when the inputs are absent (default: none) */
} ot_ew_clip_grad_attrs;

typedef struct {
    int64_t seed_node; /* the forward Dropout's node index: its RNG stream */
    int has_seed;
    int64_t seed;
    float ratio; /* used when the ratio input is absent */
} ot_ew_dropout_grad_attrs;

/* ---- helpers (elementwise.c) ------------------------------------------------ */
bool ot_ew_dtype_in(ot_dtype t, unsigned classes);
/* "float types, signed integers" for messages. */
const char *ot_ew_classes_str(unsigned classes, char *buf, size_t cap);
/* OT_ERR_UNSUPPORTED naming the input's dtype and what the op accepts. */
ot_status ot_ew_check_input(const ot_kctx *c, int i, unsigned classes);
/* Name of an ONNX TensorProto dtype number, including those onnxtrain does
   not support (float8e4m3fn, int4, ...). */
const char *ot_ew_onnx_dtype_name(int t);
/* Error from a parse function, naming the node as ot_op_error does. */
ot_status ot_ew_node_error(const ot_node *n, ot_status code, const char *fmt, ...) OT_PRINTF(3, 4);

/* ---- row functions ----------------------------------------------------------- */
#define OT_EW_ROW_FUNCS(op)                                                  \
    ot_status ot_ew_##op##_parse(const ot_node *n, int64_t opset, void *attrs); \
    ot_status ot_ew_##op##_infer(ot_kctx *c);                                \
    ot_status ot_ew_##op##_cpu(ot_kctx *c);
OT_EW_ROW_FUNCS(unary)
OT_EW_ROW_FUNCS(clip)
OT_EW_ROW_FUNCS(isinf)
OT_EW_ROW_FUNCS(cast)
OT_EW_ROW_FUNCS(dropout)
ot_status ot_ew_isnan_infer(ot_kctx *c);
ot_status ot_ew_isnan_cpu(ot_kctx *c);
ot_status ot_ew_castlike_infer(ot_kctx *c);
ot_status ot_ew_identity_infer(ot_kctx *c);
ot_status ot_ew_identity_cpu(ot_kctx *c);
OT_EW_ROW_FUNCS(ugrad)
OT_EW_ROW_FUNCS(pow_grad)
OT_EW_ROW_FUNCS(prelu_grad)
OT_EW_ROW_FUNCS(minmax_grad)
OT_EW_ROW_FUNCS(clip_grad)
OT_EW_ROW_FUNCS(dropout_grad)

/* ---- gradient rules (elementwise_grad.c) --------------------------------------- */
ot_status ot_ew_unary_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_add_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_sub_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_mul_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_div_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_pow_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_prelu_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_minmax_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_sum_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_mean_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_where_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_clip_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_cast_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_identity_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_dropout_grad_rule(ot_grad_ctx *g);
ot_status ot_ew_zero_grad_rule(ot_grad_ctx *g);

#endif
