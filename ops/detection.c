/* Placeholder: the detection family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_detection[] = {{.name = NULL}};
const int ot_ops_detection_count = 0;
