/* ft-interop.c: being written */
