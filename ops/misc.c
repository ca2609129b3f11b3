/* Placeholder: the misc family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_misc[] = {{.name = NULL}};
const int ot_ops_misc_count = 0;
