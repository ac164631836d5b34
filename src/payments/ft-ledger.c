/* ft-ledger.c: being written */
