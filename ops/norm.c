/* Op family: norm (being written). */
#include "op.h"

const ot_op_def ot_ops_norm[] = {{0}};
const int ot_ops_norm_count = 0;
