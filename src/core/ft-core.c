/* ft-core.c: being written */
