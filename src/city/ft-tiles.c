/* ft-tiles.c: being written */
