/* ft-fleet.c: being written */
