/* ft-geofence.c: being written */
