/* Private to the elementwise family: its files (elementwise.c: binary,
 * variadic, Where and the family's one table `ot_ops_elementwise`;
 * elementwise_unary.c: unary maps, Clip, IsNaN/IsInf; elementwise_misc.c:
 * Cast, CastLike, Identity, Dropout) share these structs and helpers. */
#ifndef OT_OPS_ELEMENTWISE_OPS_H
#define OT_OPS_ELEMENTWISE_OPS_H

#include "../kernels/cpu/elementwise.h"
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
    int64_t saturate; /* float8 only: validated, otherwise without effect */
} ot_ew_cast_attrs;

typedef struct {
    float ratio; /* opset < 12 */
    int has_seed;
    int64_t seed;
} ot_ew_dropout_attrs;

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

#endif
