/* The op families linked into the registry.  Each ops/<family>.c defines
   `const ot_op_def ot_ops_<family>[]` and `const int ot_ops_<family>_count`. */
#ifndef OT_OPS_FAMILIES_H
#define OT_OPS_FAMILIES_H

#include "op.h"

#define OT_FAMILIES      \
    OT_FAMILY(elementwise) \
    OT_FAMILY(matmul)      \
    OT_FAMILY(conv)        \
    OT_FAMILY(pool)        \
    OT_FAMILY(norm)        \
    OT_FAMILY(softmax)     \
    OT_FAMILY(reduce)      \
    OT_FAMILY(shape)       \
    OT_FAMILY(indexing)    \
    OT_FAMILY(fused)       \
    OT_FAMILY(optimizer)   \
    OT_FAMILY(attention)   \
    OT_FAMILY(attention_ext) \
    OT_FAMILY(resize)      \
    OT_FAMILY(rnn)         \
    OT_FAMILY(signal)      \
    OT_FAMILY(misc)        \
    OT_FAMILY(detection)   \
    OT_FAMILY(quant)       \
    OT_FAMILY(preview_training)

#define OT_FAMILY(x) extern const ot_op_def ot_ops_##x[]; extern const int ot_ops_##x##_count;
OT_FAMILIES
#undef OT_FAMILY

#endif
