/* Op family: elementwise (being written). */
#include "op.h"

const ot_op_def ot_ops_elementwise[] = {{0}};
const int ot_ops_elementwise_count = 0;
