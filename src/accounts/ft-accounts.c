/* ft-accounts.c: being written */
