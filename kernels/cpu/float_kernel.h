/* Internal to the CPU kernels written once as a macro over the element type
 * and instantiated per floating type.  SUF names the type in function names
 * and picks its access macros: f32 (float), f64 (double), f16 and bf16
 * (uint16_t storage).  Elements load into and store from the compute type
 * CT: double for f64, float for the others. */
#ifndef OT_KERNELS_CPU_FLOAT_KERNEL_H
#define OT_KERNELS_CPU_FLOAT_KERNEL_H

#include "../../src/core/dtype.h"
#include "../../src/core/half.h"

#define LD_f32(p, i) ((p)[i])
#define ST_f32(p, i, v) ((p)[i] = (v))
#define LD_f64(p, i) ((p)[i])
#define ST_f64(p, i, v) ((p)[i] = (v))
#define LD_f16(p, i) ot_f16_to_f32((p)[i])
#define ST_f16(p, i, v) ((p)[i] = ot_f32_to_f16(v))
#define LD_bf16(p, i) ot_bf16_to_f32((p)[i])
#define ST_bf16(p, i, v) ((p)[i] = ot_f32_to_bf16(v))

/* The cases of a switch on an ot_dtype for the four floating types;
   CALL(SUF, T) expands to the typed call. */
#define OT_FLOAT_CASES(CALL)                       \
    case OT_FLOAT: CALL(f32, float); break;        \
    case OT_DOUBLE: CALL(f64, double); break;      \
    case OT_FLOAT16: CALL(f16, uint16_t); break;   \
    case OT_BFLOAT16: CALL(bf16, uint16_t); break;

/* The whole switch: other dtypes do nothing (the ops' infer rejects them). */
#define OT_FLOAT_DISPATCH(dt, CALL) \
    switch (dt) {                   \
        OT_FLOAT_CASES(CALL)        \
    default: break;                 \
    }

#endif
