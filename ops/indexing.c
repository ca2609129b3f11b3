/* Op family: indexing (being written). */
#include "op.h"

const ot_op_def ot_ops_indexing[] = {{0}};
const int ot_ops_indexing_count = 0;
