/* ft-city.c: being written */
