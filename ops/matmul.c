/* Op family: matmul (being written). */
#include "op.h"

const ot_op_def ot_ops_matmul[] = {{0}};
const int ot_ops_matmul_count = 0;
