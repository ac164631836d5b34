/* fuzz-osm-pbf.c — libFuzzer harness for the OpenStreetMap PBF import
 * (src/city/ft-osm.c and its libosmium shim): the input bytes go to an
 * anonymous memory file, which is imported as a city and freed. Any crash,
 * sanitizer report, leak or hang is a finding; a refusal is not.
 * Seeds: tests/fuzz/seed-osm-pbf.sh DIR (tiny generated files and the first
 * blocks of the real extracts, made at run time, never committed).
 */
#define _GNU_SOURCE
#include "ft-city.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("fuzz-osm-pbf", MFD_CLOEXEC);
  if (fd < 0)
    return 0;
  size_t done = 0;
  while (done < size)
    {
      ssize_t n = write (fd, data + done, size - done);
      if (n <= 0)
        {
          close (fd);
          return 0;
        }
      done += (size_t) n;
    }
  char path[64];
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  GError *error = NULL;
  FtOsmStats stats;
  FtCity *city = ft_city_import_osm_full (path, "Fuzz", FT_UTC_OFFSET_ESTIMATE, NULL, NULL, &stats, &error);
  if (city == NULL)
    {
      /* a refusal must say why */
      if (error == NULL || error->message == NULL || error->message[0] == '\0')
        __builtin_trap ();
      g_error_free (error);
    }
  else if (!ft_city_check (city, NULL))
    __builtin_trap ();   /* an imported city must be consistent */
  ft_city_free (city);
  close (fd);
  return 0;
}
