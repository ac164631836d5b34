/* ft-pricing.c: being written */
