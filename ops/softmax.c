/* Op family: softmax (being written). */
#include "op.h"

const ot_op_def ot_ops_softmax[] = {{0}};
const int ot_ops_softmax_count = 0;
