/* Op family: shape (being written). */
#include "op.h"

const ot_op_def ot_ops_shape[] = {{0}};
const int ot_ops_shape_count = 0;
