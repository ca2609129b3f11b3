/* Op family: pool (being written). */
#include "op.h"

const ot_op_def ot_ops_pool[] = {{0}};
const int ot_ops_pool_count = 0;
