/* ft-payments.c: being written */
