/* Op family: conv (being written). */
#include "op.h"

const ot_op_def ot_ops_conv[] = {{0}};
const int ot_ops_conv_count = 0;
