/* Placeholder: the attention family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_attention[] = {{.name = NULL}};
const int ot_ops_attention_count = 0;
