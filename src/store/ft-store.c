/* ft-store.c: being written */
