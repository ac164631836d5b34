/* ft-booking.c: being written */
