/* ft-common.c: being written */
