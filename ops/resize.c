/* Placeholder: the resize family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_resize[] = {{.name = NULL}};
const int ot_ops_resize_count = 0;
