/* Op family: reduce (being written). */
#include "op.h"

const ot_op_def ot_ops_reduce[] = {{0}};
const int ot_ops_reduce_count = 0;
