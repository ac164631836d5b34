/* ft-event.c: being written */
