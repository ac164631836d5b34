/* ft-geo.c: being written */
