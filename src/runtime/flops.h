/* FLOPs of compiled programs (flops.c has the counting rules). */
#ifndef OT_RUNTIME_FLOPS_H
#define OT_RUNTIME_FLOPS_H

#include "program.h"

double ot_step_flops(const ot_program *p, const ot_step *st);
double ot_program_flops(const ot_program *p);

#endif
