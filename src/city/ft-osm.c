/* ft-osm.c: being written */
