/* Placeholder: the rnn family is being written (see ops/families.h). */
#include "op.h"

const ot_op_def ot_ops_rnn[] = {{.name = NULL}};
const int ot_ops_rnn_count = 0;
