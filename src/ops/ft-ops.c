/* ft-ops.c: being written */
