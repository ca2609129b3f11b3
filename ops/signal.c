/* Placeholder: the signal family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_signal[] = {{.name = NULL}};
const int ot_ops_signal_count = 0;
