/* ft-live.c: being written */
